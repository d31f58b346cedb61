"""Data for the experiments: real MNIST digits, and small 2-D toy sets made from a seed.

MNIST: the 10,000-image MNIST test set (LeCun, Cortes and Burges, CC BY-SA 3.0) ships
in ``explain/nn/data/mnist``; its SHA-256 checksums are verified on every load, so a
corrupted or truncated file stops with a clear ``DataError`` instead of odd results.
It is split once, deterministically, into training, validation and test parts.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

MNIST_DIR = Path(__file__).parent / "data" / "mnist"
IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
SPLIT_SEED = 20_061_998  # fixed: the split must never change between runs
SPLIT_SIZES = {"train": 8_000, "validation": 1_000, "test": 1_000}


class DataError(RuntimeError):
    """A data file is missing, corrupted or not in the expected format."""


class Dataset(NamedTuple):
    """Inputs x (N, D), one-hot targets y (N, K) and integer labels (N,)."""

    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, n: int) -> Dataset:
        """The first n samples."""
        return Dataset(self.x[:n], self.y[:n], self.labels[:n])


class MNIST(NamedTuple):
    """The three deterministic parts of the shipped MNIST digits."""

    train: Dataset
    validation: Dataset
    test: Dataset


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    """(N,) integer labels -> (N, k) one-hot rows."""
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def expected_checksums(directory: Path = MNIST_DIR) -> dict[str, str]:
    """File name -> SHA-256, read from SHA256SUMS."""
    path = directory / "SHA256SUMS"
    if not path.exists():
        raise DataError(f"MNIST checksum list missing: {path}")
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    sums = {parts[-1]: parts[0] for parts in lines if len(parts) == 2}
    for name in (IMAGES_FILE, LABELS_FILE):
        if name not in sums:
            raise DataError(f"{path} has no checksum for {name}")
    return sums


def read_verified(path: Path, sha256: str) -> bytes:
    """The gunzipped content of ``path``, after checking its SHA-256."""
    if not path.exists():
        raise DataError(f"MNIST file missing: {path}")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise DataError(
            f"MNIST file {path.name} is corrupted: SHA-256 {digest[:12]}... "
            f"does not match the expected {sha256[:12]}...; restore it from the repository"
        )
    return gzip.decompress(raw)


def parse_idx(data: bytes, magic: int, dims: int) -> np.ndarray:
    """An IDX array: big-endian header (magic, sizes) followed by raw uint8."""
    header = np.frombuffer(data[: 4 * (dims + 1)], dtype=">u4")
    if header[0] != magic:
        raise DataError(f"not an IDX file with magic {magic} (found {header[0]})")
    shape = tuple(int(s) for s in header[1:])
    body = np.frombuffer(data[4 * (dims + 1) :], dtype=np.uint8)
    if body.size != int(np.prod(shape)):
        raise DataError(f"IDX body has {body.size} values, header promises {shape}")
    return body.reshape(shape)


@lru_cache(maxsize=2)
def load_mnist_arrays(directory: Path = MNIST_DIR) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 images as (N, 784) floats in [0, 1] and their labels (N,), verified."""
    sums = expected_checksums(directory)
    images = parse_idx(read_verified(directory / IMAGES_FILE, sums[IMAGES_FILE]), 2051, 3)
    labels = parse_idx(read_verified(directory / LABELS_FILE, sums[LABELS_FILE]), 2049, 1)
    x = images.reshape(len(images), -1).astype(float) / 255.0
    x.flags.writeable = False
    labels = labels.astype(np.int64)
    labels.flags.writeable = False
    return x, labels


@lru_cache(maxsize=2)
def load_mnist(directory: Path = MNIST_DIR) -> MNIST:
    """The shipped digits, shuffled once with a fixed seed and split 8,000/1,000/1,000."""
    x, labels = load_mnist_arrays(directory)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    parts, start = [], 0
    for size in SPLIT_SIZES.values():
        idx = order[start : start + size]
        parts.append(Dataset(x[idx], one_hot(labels[idx], 10), labels[idx]))
        start += size
    return MNIST(*parts)


# --- 2-D toy sets ----------------------------------------------------------------------


def _toy(x: np.ndarray, labels: np.ndarray, k: int) -> Dataset:
    return Dataset(x, one_hot(labels, k), labels)


def moons(n: int, noise: float, *, rng: np.random.Generator) -> Dataset:
    """Two interleaved half circles."""
    t = rng.uniform(0.0, np.pi, size=n)
    labels = rng.integers(0, 2, size=n)
    x = np.where(
        labels[:, None] == 0,
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
    )
    return _toy(x + rng.normal(0.0, noise, size=x.shape), labels, 2)


def circles(n: int, noise: float, *, rng: np.random.Generator, factor: float = 0.5) -> Dataset:
    """A disc inside a ring."""
    t = rng.uniform(0.0, 2 * np.pi, size=n)
    labels = rng.integers(0, 2, size=n)
    radius = np.where(labels == 0, 1.0, factor)
    x = np.column_stack([radius * np.cos(t), radius * np.sin(t)])
    return _toy(x + rng.normal(0.0, noise, size=x.shape), labels, 2)


def xor(n: int, noise: float, *, rng: np.random.Generator) -> Dataset:
    """Four clusters; the label is the XOR of the signs of the two coordinates."""
    centres = rng.choice([-1.0, 1.0], size=(n, 2))
    labels = (centres[:, 0] * centres[:, 1] < 0).astype(np.int64)
    return _toy(centres + rng.normal(0.0, noise + 0.05, size=(n, 2)), labels, 2)


def spiral(n: int, noise: float, *, rng: np.random.Generator, arms: int = 3) -> Dataset:
    """``arms`` interleaved spiral arms, one class each."""
    labels = rng.integers(0, arms, size=n)
    r = rng.uniform(0.05, 1.0, size=n)
    t = 4.0 * r + 2 * np.pi * labels / arms + rng.normal(0.0, noise, size=n)
    return _toy(np.column_stack([r * np.sin(t), r * np.cos(t)]), labels, arms)


def blobs(n: int, noise: float, *, rng: np.random.Generator, k: int = 3) -> Dataset:
    """k Gaussian clusters on a circle of radius 1; noise is their standard deviation."""
    labels = rng.integers(0, k, size=n)
    angle = 2 * np.pi * labels / k
    centres = np.column_stack([np.cos(angle), np.sin(angle)])
    return _toy(centres + rng.normal(0.0, noise + 0.05, size=(n, 2)), labels, k)


TOY_SETS = {"moons": moons, "circles": circles, "xor": xor, "spiral": spiral, "blobs": blobs}


def toy_dataset(name: str, n: int, noise: float, *, rng: np.random.Generator) -> Dataset:
    """A 2-D toy set by name."""
    if name not in TOY_SETS:
        raise KeyError(f"unknown toy set {name!r}; choose from {sorted(TOY_SETS)}")
    return TOY_SETS[name](n, noise, rng=rng)
