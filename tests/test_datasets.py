"""Datasets: the shipped MNIST digits (verified, split deterministically) and the 2-D toy sets."""

import shutil

import numpy as np
import pytest

from explain.nn.datasets import (
    IMAGES_FILE,
    LABELS_FILE,
    MNIST_DIR,
    SPLIT_SIZES,
    TOY_SETS,
    DataError,
    Dataset,
    load_mnist,
    load_mnist_arrays,
    one_hot,
    parse_idx,
    toy_dataset,
)

# digit counts of the official 10,000-image MNIST test set
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


# --- MNIST -----------------------------------------------------------------------------


def test_split_sizes_and_shapes(mnist):
    sizes = {"train": 8000, "validation": 1000, "test": 1000}
    assert sizes == SPLIT_SIZES
    for part, size in zip(mnist, sizes.values()):
        assert len(part) == size
        assert part.x.shape == (size, 784)
        assert part.y.shape == (size, 10)
        assert part.labels.shape == (size,)


def test_pixels_in_unit_interval_and_targets_one_hot(mnist):
    for part in mnist:
        assert part.x.dtype == np.float64
        assert part.x.min() == 0.0
        assert part.x.max() == 1.0
        np.testing.assert_array_equal(part.y.sum(axis=1), 1.0)
        assert set(np.unique(part.y)) == {0.0, 1.0}
        np.testing.assert_array_equal(np.argmax(part.y, axis=1), part.labels)


def test_label_counts_are_those_of_the_mnist_test_set(mnist):
    x, labels = load_mnist_arrays()
    assert x.shape == (10_000, 784)
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_COUNTS
    together = np.concatenate([part.labels for part in mnist])
    assert np.bincount(together, minlength=10).tolist() == MNIST_TEST_COUNTS


def test_split_is_deterministic(mnist, tmp_path):
    again = load_mnist(copy_of_mnist(tmp_path))  # another directory: read afresh, not cached
    for a, b in zip(mnist, again):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.labels, b.labels)


def test_split_parts_are_disjoint_and_cover_the_set(mnist):
    x, _ = load_mnist_arrays()
    shipped = {row.tobytes() for row in x}
    assert len(shipped) == 10_000  # no two shipped images are identical, so bytes identify them
    parts = [{row.tobytes() for row in part.x} for part in mnist]
    assert [len(p) for p in parts] == [8000, 1000, 1000]
    assert not parts[0] & parts[1]
    assert not parts[0] & parts[2]
    assert not parts[1] & parts[2]
    assert parts[0] | parts[1] | parts[2] == shipped


def test_cached_arrays_are_read_only():
    x, labels = load_mnist_arrays()
    with pytest.raises(ValueError, match="read-only"):
        x[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        labels[0] = 3


def copy_of_mnist(tmp_path):
    target = tmp_path / "mnist"
    shutil.copytree(MNIST_DIR, target)
    for f in target.iterdir():
        f.chmod(0o644)  # the shipped files are read-only, and so are their copies
    return target


def test_a_clean_copy_loads(tmp_path):
    x, labels = load_mnist_arrays(copy_of_mnist(tmp_path))
    np.testing.assert_array_equal(labels, load_mnist_arrays()[1])
    assert x.shape == (10_000, 784)


@pytest.mark.parametrize("name", [IMAGES_FILE, LABELS_FILE])
def test_corrupted_file_raises_data_error_naming_it(tmp_path, name):
    directory = copy_of_mnist(tmp_path)
    path = directory / name
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=name):
        load_mnist_arrays(directory)


def test_truncated_file_raises_data_error(tmp_path):
    directory = copy_of_mnist(tmp_path)
    path = directory / IMAGES_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match="corrupted"):
        load_mnist(directory)


@pytest.mark.parametrize("name", [IMAGES_FILE, LABELS_FILE])
def test_missing_file_raises_data_error(tmp_path, name):
    directory = copy_of_mnist(tmp_path)
    (directory / name).unlink()
    with pytest.raises(DataError, match=f"missing.*{name}"):
        load_mnist_arrays(directory)


def test_missing_checksum_list_raises_data_error(tmp_path):
    directory = copy_of_mnist(tmp_path)
    (directory / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="SHA256SUMS"):
        load_mnist_arrays(directory)


def test_checksum_list_without_an_entry_raises_data_error(tmp_path):
    directory = copy_of_mnist(tmp_path)
    sums = directory / "SHA256SUMS"
    kept = [ln for ln in sums.read_text().splitlines() if "images" not in ln]
    sums.write_text("\n".join(kept) + "\n")
    with pytest.raises(DataError, match="no checksum for t10k-images"):
        load_mnist_arrays(directory)


def test_parse_idx_rejects_bad_headers():
    header = np.array([2049, 3], dtype=">u4").tobytes()
    np.testing.assert_array_equal(parse_idx(header + bytes([1, 2, 3]), 2049, 1), [1, 2, 3])
    with pytest.raises(DataError, match="magic"):
        parse_idx(header + bytes([1, 2, 3]), 2051, 1)
    with pytest.raises(DataError, match="header promises"):
        parse_idx(header + bytes([1, 2]), 2049, 1)


def test_one_hot_and_take():
    y = one_hot(np.array([2, 0, 1]), 4)
    np.testing.assert_array_equal(y, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    data = Dataset(np.arange(6.0).reshape(3, 2), y, np.array([2, 0, 1]))
    first = data.take(2)
    assert len(first) == 2
    np.testing.assert_array_equal(first.labels, [2, 0])
    np.testing.assert_array_equal(first.x, [[0.0, 1.0], [2.0, 3.0]])


# --- toy sets --------------------------------------------------------------------------

N_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spiral": 3, "blobs": 3}


def test_every_toy_set_is_listed():
    assert set(TOY_SETS) == set(N_CLASSES)


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_shapes_and_labels(name):
    data = toy_dataset(name, 500, 0.1, rng=np.random.default_rng(0))
    k = N_CLASSES[name]
    assert len(data) == 500
    assert data.x.shape == (500, 2)
    assert data.y.shape == (500, k)
    assert data.labels.min() >= 0
    assert data.labels.max() < k
    assert set(np.unique(data.labels)) == set(range(k))  # every class present
    np.testing.assert_array_equal(np.argmax(data.y, axis=1), data.labels)
    assert np.all(np.isfinite(data.x))


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_same_seed_identical_other_seed_different(name):
    a, b, c = (toy_dataset(name, 200, 0.2, rng=np.random.default_rng(s)) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_noise_widens_the_spread(name):
    clean, mild, wild = (
        toy_dataset(name, 2000, noise, rng=np.random.default_rng(7)) for noise in (0.0, 0.1, 0.4)
    )
    # the same seed draws the same labels and positions; noise only moves points
    np.testing.assert_array_equal(clean.labels, wild.labels)
    mild_spread = np.std(mild.x - clean.x)
    wild_spread = np.std(wild.x - clean.x)
    assert 0.0 < mild_spread < wild_spread
    if name != "spiral":  # spiral's noise is on the angle, so its spread also scales with r
        assert mild_spread == pytest.approx(0.1, rel=0.1)
        assert wild_spread == pytest.approx(0.4, rel=0.1)


def test_noiseless_circles_lie_on_their_circles():
    data = toy_dataset("circles", 300, 0.0, rng=np.random.default_rng(0))
    radius = np.hypot(data.x[:, 0], data.x[:, 1])
    np.testing.assert_allclose(radius, np.where(data.labels == 0, 1.0, 0.5), rtol=1e-12)


def test_noiseless_moons_lie_on_their_half_circles():
    data = toy_dataset("moons", 300, 0.0, rng=np.random.default_rng(0))
    centre = np.where(data.labels[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    radius = np.hypot(*(data.x - centre).T)
    np.testing.assert_allclose(radius, 1.0, rtol=1e-12)


def test_unknown_toy_set_raises_key_error():
    with pytest.raises(KeyError, match="unknown toy set 'swiss_roll'"):
        toy_dataset("swiss_roll", 10, 0.1, rng=np.random.default_rng(0))
