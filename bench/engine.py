"""Benchmark: one epoch of the NumPy engine against the same network in PyTorch, on the CPU.

Goal: measure, in one run, how long ``explain.training.sgd_epoch`` takes for one epoch of
mini-batch SGD over 9,000 MNIST digits (a [784, 30, 30, 10] sigmoid network, cross-entropy
cost, mini-batch 10, eta 0.1, lmbda 5.0), and the same loop written in PyTorch with the
same initial weights and the same shuffled mini-batches, in float64 (like for like) and in
float32. Prints the medians and the ratios torch / engine; the house target is >= 2.

Honesty checks, printed too: both sides compute the same gradient on the first mini-batch,
and end the epoch with the same parameters.

Non-goals: GPU timings, other architectures, tuning PyTorch beyond its defaults (beyond
matching NumPy's BLAS thread count). PyTorch is optional (``bench/requirements.txt``):
without it only the engine is timed.

Usage, from the repository root:  python bench/engine.py [--repeats 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.datasets import Dataset, load_mnist  # noqa: E402
from explain.network import NetworkSpec, Params, backward, forward, init_params  # noqa: E402
from explain.training import TrainConfig, sgd_epoch  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # PyTorch is optional: the engine is still timed
    torch = None

SPEC = NetworkSpec(sizes=(784, 30, 30, 10), activation="sigmoid", cost="cross_entropy")
CONFIG = TrainConfig(epochs=1, batch_size=10, eta=0.1, lmbda=5.0)
TARGET_RATIO = 2.0


def mnist_9000() -> Dataset:
    """The 8,000 training and 1,000 validation digits of ``load_mnist``, concatenated."""
    mnist = load_mnist()
    return Dataset(*(np.concatenate(pair) for pair in zip(mnist.train, mnist.validation)))


def openblas_info() -> tuple[int | None, str | None]:
    """(threads, core name) of the OpenBLAS NumPy loaded, through ctypes; None if unknown."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            get_threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            get_core = getattr(lib, f"{prefix}get_corename{suffix}", None)
            if get_threads is not None and get_core is not None:
                get_core.restype = ctypes.c_char_p
                return int(get_threads()), get_core().decode()
    return None, None


def timed(run: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call, by time.perf_counter."""
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


# --- the engine, exactly as explain.training.train calls it ------------------------------


def engine_epoch(params: Params, data: Dataset, seed: int) -> Params:
    """One epoch of ``sgd_epoch``; the mini-batch order is drawn from ``seed``."""
    optimizer = CONFIG.make_optimizer()
    state = optimizer.init(params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        params, _, bad_step = sgd_epoch(
            SPEC, params, state, data, CONFIG, optimizer, rng=np.random.default_rng(seed)
        )
    if bad_step is not None:
        raise RuntimeError(f"the engine diverged at step {bad_step}")
    return params


# --- the same network and loop in PyTorch ------------------------------------------------


def torch_model(params: Params, dtype) -> torch.nn.Sequential:
    """Linear + sigmoid layers holding copies of ``params``; the last layer outputs logits z^L."""
    layers = []
    for W, b in zip(params.W, params.b):
        linear = torch.nn.Linear(*W.shape, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # torch stores W as (n_out, n_in)
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers[:-1])  # the output sigmoid lives inside the loss


def torch_sgd(model: torch.nn.Sequential, n: int) -> torch.optim.SGD:
    """SGD with L2 decay lmbda / n on the weights only, as in Nielsen's network2."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    groups = [
        {"params": weights, "weight_decay": CONFIG.lmbda / n},
        {"params": biases, "weight_decay": 0.0},
    ]
    return torch.optim.SGD(groups, lr=CONFIG.eta)


def torch_cost(model: torch.nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the outputs, averaged over the batch (the engine's C)."""
    return F.binary_cross_entropy_with_logits(model(x), y, reduction="sum") / len(x)


def torch_epoch(model, optimizer, x: torch.Tensor, y: torch.Tensor, seed: int) -> None:
    """One epoch over the same shuffled mini-batches as ``engine_epoch`` with ``seed``."""
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
    for start in range(0, len(x), CONFIG.batch_size):
        idx = order[start : start + CONFIG.batch_size]
        loss = torch_cost(model, x[idx], y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def torch_params(model: torch.nn.Sequential) -> Params:
    """The model's weights and biases as a float64 ``Params``, W as (n_in, n_out)."""
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    W = tuple(m.weight.detach().double().numpy().T for m in linears)
    b = tuple(m.bias.detach().double().numpy() for m in linears)
    return Params(W, b)


def max_abs_diff(p: Params, q: Params) -> float:
    """Largest |difference| over every weight and bias."""
    return max(float(np.max(np.abs(u - v))) for u, v in zip(p.W + p.b, q.W + q.b))


def first_step_gradients(params: Params, data: Dataset, seed: int, dtype) -> tuple[Params, Params]:
    """(engine, torch) gradients dC/dW, dC/db on the first mini-batch of the epoch."""
    idx = np.random.default_rng(seed).permutation(len(data))[: CONFIG.batch_size]
    x, y = data.x[idx], data.y[idx]
    grads = backward(SPEC, params, forward(SPEC, params, x), y)
    model = torch_model(params, dtype)
    torch_cost(model, torch.from_numpy(x).to(dtype), torch.from_numpy(y).to(dtype)).backward()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    theirs = Params(
        tuple(m.weight.grad.double().numpy().T for m in linears),
        tuple(m.bias.grad.double().numpy() for m in linears),
    )
    return Params(grads.dW, grads.db), theirs


# --- running and reporting ---------------------------------------------------------------


def make_runners(params: Params, data: Dataset, seed: int) -> dict[str, Callable[[], Params]]:
    """Label -> a function that builds a fresh side (untimed) and returns a timed epoch."""

    def engine() -> tuple[float, Params]:
        return timed(lambda: engine_epoch(params, data, seed))

    def in_torch(dtype) -> Callable[[], tuple[float, Params]]:
        x, y = torch.from_numpy(data.x).to(dtype), torch.from_numpy(data.y).to(dtype)

        def run() -> tuple[float, Params]:
            model = torch_model(params, dtype)
            optimizer = torch_sgd(model, len(data))
            seconds, _ = timed(lambda: torch_epoch(model, optimizer, x, y, seed))
            return seconds, torch_params(model)

        return run

    runners = {"engine (NumPy float64)": engine}
    if torch is not None:
        runners["torch float64"] = in_torch(torch.float64)
        runners["torch float32"] = in_torch(torch.float32)
    return runners


def measure(runners: dict, repeats: int) -> tuple[dict[str, list[float]], dict[str, Params]]:
    """One warm-up, then ``repeats`` interleaved timings per side, and each side's final params."""
    finals = {label: run()[1] for label, run in runners.items()}  # warm-up
    times: dict[str, list[float]] = {label: [] for label in runners}
    for _ in range(repeats):
        for label, run in runners.items():
            seconds, finals[label] = run()
            times[label].append(seconds)
    return times, finals


def print_header(data: Dataset, repeats: int) -> None:
    steps = -(-len(data) // CONFIG.batch_size)
    print(
        f"one epoch of mini-batch SGD: {len(data):,} MNIST images, {list(SPEC.sizes)} "
        f"{SPEC.activation} + {SPEC.cost}, mini-batch {CONFIG.batch_size}, "
        f"eta {CONFIG.eta}, lmbda {CONFIG.lmbda} ({steps} steps)"
    )
    threads, core = openblas_info()
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(
        f"numpy {np.__version__}: OpenBLAS core {core or '?'}, {threads or '?'} threads"
        + (f" (OPENBLAS_CORETYPE={coretype})" if coretype else "")
    )
    if torch is not None:
        print(f"torch {torch.__version__}: {torch.get_num_threads()} threads")
    print(f"{repeats} repeats after 1 warm-up, time.perf_counter, median of each side\n")


def print_checks(params: Params, data: Dataset, seed: int, finals: dict[str, Params]) -> None:
    engine_label = next(iter(finals))
    for dtype in (torch.float64, torch.float32):
        ours, theirs = first_step_gradients(params, data, seed, dtype)
        print(
            f"first-step gradient, torch {str(dtype)[6:]} vs engine: "
            f"max |diff| {max_abs_diff(ours, theirs):.1e} "
            f"(largest |gradient| {max(float(np.max(np.abs(g))) for g in ours.W + ours.b):.1e})"
        )
    for label, final in finals.items():
        if label != engine_label:
            diff = max_abs_diff(finals[engine_label], final)
            print(f"params after the epoch, {label} vs engine: max |diff| {diff:.1e}")
    print()


def print_table(times: dict[str, list[float]]) -> None:
    medians = {label: statistics.median(ts) for label, ts in times.items()}
    engine = next(iter(medians.values()))
    print(f"{'side':<24}{'median s':>10}{'min s':>10}{'max s':>10}{'torch / engine':>16}")
    for label, ts in times.items():
        ratio = "" if medians[label] is engine else f"{medians[label] / engine:.2f}"
        print(f"{label:<24}{medians[label]:>10.4f}{min(ts):>10.4f}{max(ts):>10.4f}{ratio:>16}")
    ratios = [m / engine for m in medians.values() if m is not engine]
    if ratios:
        verdict = "meets" if min(ratios) >= TARGET_RATIO else "MISSES"
        print(
            f"\nthe engine is {min(ratios):.2f}x to {max(ratios):.2f}x as fast as torch: "
            f"{verdict} the target of at least {TARGET_RATIO:g}x"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per side")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    args = parser.parse_args(argv)
    if torch is None:
        print(
            "PyTorch is not importable: timing the engine only (pip install -r bench/requirements.txt)\n"
        )
    else:
        threads, _ = openblas_info()
        torch.set_num_threads(threads or os.cpu_count() or 1)  # match NumPy's BLAS
    data = mnist_9000()
    params = init_params(SPEC, rng=np.random.default_rng(args.seed))
    print_header(data, args.repeats)
    times, finals = measure(make_runners(params, data, args.seed), args.repeats)
    if torch is not None:
        print_checks(params, data, args.seed, finals)
    print_table(times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
