"""Benchmark: one epoch of the NumPy engine against the same network in PyTorch, on the CPU.

Goal: measure, in one run, how long ``explain.nn.training.sgd_epoch`` takes for one epoch of
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
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.nn.datasets import Dataset, load_mnist  # noqa: E402
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params  # noqa: E402
from explain.nn.training import TrainConfig, sgd_epoch  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # PyTorch is optional: the engine is still timed
    torch = None

SPEC = NetworkSpec(sizes=(784, 30, 30, 10), activation="sigmoid", cost="cross_entropy")
CONFIG = TrainConfig(epochs=1, batch_size=10, eta=0.1, lmbda=5.0)
TARGET_RATIO = 2.0  # torch float64 / engine, the like-for-like comparison
ENGINE, TORCH64, TORCH32 = "engine (NumPy float64)", "torch float64", "torch float32"


def mnist_9000() -> Dataset:
    """The 8,000 training and 1,000 validation digits of ``load_mnist``, concatenated."""
    mnist = load_mnist()
    return Dataset(*(np.concatenate(pair) for pair in zip(mnist.train, mnist.validation)))


def openblas_info() -> tuple[int | None, str | None]:
    """(threads, core name) of the OpenBLAS NumPy loaded, through ctypes; None if unknown."""
    try:  # Linux: the shared libraries this process has loaded
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
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


# --- the engine, exactly as explain.nn.training.train calls it ------------------------------


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


Runner = Callable[[], tuple[float, Params]]


def make_runners(params: Params, data: Dataset, seed: int) -> dict[str, Runner]:
    """Label -> a function that builds a fresh side (untimed), times one epoch of it and
    returns (seconds, final params); every side starts from ``params`` and ``seed``."""

    def engine() -> tuple[float, Params]:
        return timed(lambda: engine_epoch(params, data, seed))

    def in_torch(dtype) -> Runner:
        x, y = torch.from_numpy(data.x).to(dtype), torch.from_numpy(data.y).to(dtype)

        def run() -> tuple[float, Params]:
            model = torch_model(params, dtype)
            optimizer = torch_sgd(model, len(data))
            seconds, _ = timed(lambda: torch_epoch(model, optimizer, x, y, seed))
            return seconds, torch_params(model)

        return run

    runners = {ENGINE: engine}
    if torch is not None:
        runners[TORCH64] = in_torch(torch.float64)
        runners[TORCH32] = in_torch(torch.float32)
    return runners


Timings = dict[str, list[float]]


def measure(runners: dict[str, Runner], repeats: int) -> tuple[Timings, dict[str, Params]]:
    """One warm-up, then ``repeats`` interleaved timings per side, and each side's final params."""
    finals = {label: run()[1] for label, run in runners.items()}  # warm-up
    times: Timings = {label: [] for label in runners}
    for _ in range(repeats):
        for label, run in runners.items():
            seconds, finals[label] = run()
            times[label].append(seconds)
    return times, finals


def print_header(data: Dataset, repeats: int) -> None:
    """What is timed, and on which BLAS and how many threads."""
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
    """Both sides' gradients on the first mini-batch, and their parameters after the epoch."""
    for dtype in (torch.float64, torch.float32):
        ours, theirs = first_step_gradients(params, data, seed, dtype)
        largest = max(float(np.max(np.abs(g))) for g in ours.W + ours.b)
        print(
            f"first-step gradient, torch {str(dtype)[6:]} vs engine: "
            f"max |diff| {max_abs_diff(ours, theirs):.1e} (largest |gradient| {largest:.1e})"
        )
    for label, final in finals.items():
        if label != ENGINE:
            diff = max_abs_diff(finals[ENGINE], final)
            print(f"params after the epoch, {label} vs engine: max |diff| {diff:.1e}")
            if label == TORCH64 and diff > 1e-9:
                print("WARNING: the float64 sides disagree, so they do not time the same work")
    print()


def print_table(times: Timings) -> None:
    """Median, min and max seconds of each side, and the ratios torch / engine."""
    medians = {label: statistics.median(ts) for label, ts in times.items()}
    ratios = {label: m / medians[ENGINE] for label, m in medians.items() if label != ENGINE}
    ratio_title = "torch / engine" if ratios else ""
    print(f"{'side':<24}{'median s':>10}{'min s':>10}{'max s':>10}{ratio_title:>16}")
    for label, ts in times.items():
        ratio = f"{ratios[label]:.2f}" if label in ratios else ""
        print(f"{label:<24}{medians[label]:>10.4f}{min(ts):>10.4f}{max(ts):>10.4f}{ratio:>16}")
    if ratios:
        verdict = "meets" if ratios[TORCH64] >= TARGET_RATIO else "MISSES"
        print(
            f"\nlike for like (float64) the engine is {ratios[TORCH64]:.2f}x as fast as torch: "
            f"{verdict} the target of at least {TARGET_RATIO:g}x "
            f"(against torch float32: {ratios[TORCH32]:.2f}x)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per side")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if torch is None:
        print("PyTorch is not importable, so only the engine is timed.")
        print("To compare: pip install -r bench/requirements.txt\n")
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
