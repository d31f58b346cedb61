"""Benchmark: one epoch of the NumPy engine against the same network in PyTorch, on the CPU.

Goal: measure, in one run, how long ``explain.nn.training.sgd_epoch`` takes for one epoch
over 9,000 MNIST digits, and the same loop written in PyTorch with the same initial weights
and the same shuffled mini-batches, in float64 (like for like) and in float32. Two networks:

    sgd  [784, 30, 30, 10] sigmoid, cross-entropy, mini-batch 10, SGD eta 0.1, L2 lmbda 5.0
    bn   [784, 100, 100, 100, 10] sigmoid with batch norm on every hidden layer
         (Linear without bias -> BatchNorm1d -> Sigmoid in PyTorch), cross-entropy,
         mini-batch 60, Adam eta 0.001 (beta1 0.9, beta2 0.999, eps 1e-8)

Prints the medians and the ratios torch / engine for each; the house target is >= 2.

Honesty checks, printed too: both sides compute the same gradient on the first mini-batch,
and end the epoch with the same parameters (batch norm's running mean and variance too).

``--baseline REV`` also asks "no slower than before": it exports that git revision of the
repository (``git archive REV | tar -x``, the repository itself is only read) and times its
engine on the sgd benchmark against the current one, each in fresh interpreters launched
alternately with the same timing code, so both sides pay the same. The revision before the
engine was extended is 2dc39ef.

Every timed epoch in this process starts after a short pause: OpenBLAS's threads keep
spinning for a while after a call, and would otherwise slow down whichever side runs next.

Non-goals: GPU timings, other architectures, tuning PyTorch beyond its defaults (beyond
matching NumPy's BLAS thread count). PyTorch is optional (``bench/requirements.txt``):
without it only the engine is timed.

Usage, from the repository root:
    python bench/engine.py [--repeats 5] [--seed 0] [--which {sgd,bn,both}] [--baseline REV]
"""

from __future__ import annotations

import argparse
import ctypes
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

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


class Bench(NamedTuple):
    """One benchmark: a network and how one epoch of it is trained."""

    title: str
    spec: NetworkSpec
    config: TrainConfig


BENCHES = {
    "sgd": Bench(
        "mini-batch SGD + L2",
        NetworkSpec(sizes=(784, 30, 30, 10), activation="sigmoid", cost="cross_entropy"),
        TrainConfig(epochs=1, batch_size=10, eta=0.1, lmbda=5.0),
    ),
    "bn": Bench(
        "batch norm + Adam",
        NetworkSpec(
            sizes=(784, 100, 100, 100, 10), activation="sigmoid", cost="cross_entropy", norm="batch"
        ),
        TrainConfig(epochs=1, batch_size=60, eta=0.001, optimizer="adam"),
    ),
}
TARGET_RATIO = 2.0  # torch float64 / engine, the like-for-like comparison
BASELINE_SLACK = 0.03  # the current engine may be at most 3% slower than the baseline
# After a call, OpenBLAS's idle worker threads busy-wait for a while before they sleep; on a
# machine with few cores they take a core from whichever side runs next (on 2 cores, an epoch
# of the bn benchmark in torch float64 took 368 ms right after the engine's, 268 ms after a
# pause). So every timed epoch starts after a pause.
SETTLE_SECONDS = 0.5
ENGINE, TORCH64, TORCH32 = "engine (NumPy float64)", "torch float64", "torch float32"
QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")


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


def leaves(params: Params) -> list[np.ndarray]:
    """Every array of ``params``: W, b, gamma, then each running (mean, var) pair."""
    running = [a for pair in params.running for a in pair]
    return [*params.W, *params.b, *params.gamma, *running]


def max_abs_diff(p: Params, q: Params) -> float:
    """Largest |difference| over every array of two Params of the same layout."""
    mine, theirs = leaves(p), leaves(q)
    if [a.shape for a in mine] != [a.shape for a in theirs]:
        raise ValueError("the two sides do not hold the same parameters")
    return max(float(np.max(np.abs(u - v), initial=0.0)) for u, v in zip(mine, theirs))


# --- the engine, exactly as explain.nn.training.train calls it ------------------------------


def engine_epoch(bench: Bench, params: Params, data: Dataset, seed: int) -> Params:
    """One epoch of ``sgd_epoch``; the mini-batch order is drawn from ``seed``."""
    optimizer = bench.config.make_optimizer(len(data))
    state = optimizer.init(params)
    with np.errstate(**QUIET):
        out = sgd_epoch(
            bench.spec,
            params,
            state,
            data,
            bench.config,
            optimizer,
            rng=np.random.default_rng(seed),
        )
    if out.bad_step is not None:
        raise RuntimeError(f"the engine diverged at step {out.bad_step}")
    return out.params


# --- the same network and loop in PyTorch ------------------------------------------------


def torch_model(spec: NetworkSpec, params: Params, dtype) -> torch.nn.Sequential:
    """Copies of ``params`` as Linear (+ BatchNorm1d) + Sigmoid layers; outputs logits z^L.

    A batch-normalized layer is Linear without bias -> BatchNorm1d, whose weight is gamma
    and whose bias is the engine's b (beta); its running statistics start from the engine's.
    """
    layers = []
    for l, (W, b) in enumerate(zip(params.W, params.b)):
        norm = spec.norms[l]
        if norm not in ("none", "batch"):
            raise ValueError(f"no PyTorch twin for {norm!r} norm in this benchmark")
        linear = torch.nn.Linear(*W.shape, bias=norm == "none", dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # torch stores W as (n_out, n_in)
        layers.append(linear)
        shift = linear.bias
        if norm == "batch":
            bn = torch.nn.BatchNorm1d(
                W.shape[1], eps=spec.norm_eps, momentum=spec.bn_momentum, dtype=dtype
            )
            with torch.no_grad():
                bn.weight.copy_(torch.from_numpy(params.gamma[l]))
                bn.running_mean.copy_(torch.from_numpy(params.running[l][0]))
                bn.running_var.copy_(torch.from_numpy(params.running[l][1]))
            layers.append(bn)
            shift = bn.bias
        with torch.no_grad():
            shift.copy_(torch.from_numpy(b))
        layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers[:-1])  # the output sigmoid lives inside the loss


def torch_optimizer(model: torch.nn.Sequential, config: TrainConfig, n: int):
    """The config's optimizer, with L2 decay lmbda / n on the Linear weights only (as the
    engine's add_l2; for SGD this is Nielsen's network2)."""
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    chosen = {id(w) for w in weights}
    others = [p for p in model.parameters() if id(p) not in chosen]
    groups = [
        {"params": weights, "weight_decay": config.lmbda / n},
        {"params": others, "weight_decay": 0.0},
    ]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.eta)
    if config.optimizer == "adam" and config.bias_correction and not config.weight_decay:
        betas = (config.beta1, config.beta2)
        return torch.optim.Adam(groups, lr=config.eta, betas=betas, eps=config.eps)
    raise ValueError(f"no PyTorch twin for optimizer {config.optimizer!r} in this benchmark")


def torch_cost(model: torch.nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the outputs, averaged over the batch (the engine's C)."""
    return F.binary_cross_entropy_with_logits(model(x), y, reduction="sum") / len(x)


def torch_epoch(model, optimizer, x: torch.Tensor, y: torch.Tensor, batch: int, seed: int):
    """One epoch over the same shuffled mini-batches as ``engine_epoch`` with ``seed``."""
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
    for start in range(0, len(x), batch):
        idx = order[start : start + batch]
        loss = torch_cost(model, x[idx], y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def torch_params(model: torch.nn.Sequential, grad: bool = False) -> Params:
    """The model's parameters (or, with ``grad``, their gradients) as a float64 ``Params``
    laid out as the engine's: W as (n_in, n_out), a batch norm's bias as b."""

    def array(t: torch.Tensor) -> np.ndarray:
        return (t.grad if grad else t).detach().double().numpy().copy()

    modules = list(model)
    W, b, gamma, running = [], [], [], []
    for i, m in enumerate(modules):
        if not isinstance(m, torch.nn.Linear):
            continue
        W.append(array(m.weight).T)
        bn = modules[i + 1] if i + 1 < len(modules) else None
        if isinstance(bn, torch.nn.BatchNorm1d):
            b.append(array(bn.bias))
            gamma.append(array(bn.weight))
            stats = (bn.running_mean, bn.running_var)
            running.append(tuple(s.double().numpy().copy() for s in stats))
        else:
            b.append(array(m.bias))
            gamma.append(np.zeros(0))
            running.append(())
    if not any(g.size for g in gamma):  # a plain network, as the engine lays it out
        return Params(tuple(W), tuple(b))
    return Params(tuple(W), tuple(b), tuple(gamma), () if grad else tuple(running))


def first_step_gradients(
    bench: Bench, params: Params, data: Dataset, seed: int, dtype
) -> tuple[Params, Params]:
    """(engine, torch) gradients dC/dW, dC/db (beta), dC/dgamma on the first mini-batch."""
    idx = np.random.default_rng(seed).permutation(len(data))[: bench.config.batch_size]
    x, y = data.x[idx], data.y[idx]
    with np.errstate(**QUIET):
        ours = backward(bench.spec, params, forward(bench.spec, params, x, train=True), y)
    model = torch_model(bench.spec, params, dtype)
    torch_cost(model, torch.from_numpy(x).to(dtype), torch.from_numpy(y).to(dtype)).backward()
    return ours.as_params(), torch_params(model, grad=True)


# --- running and reporting ---------------------------------------------------------------


Runner = Callable[[], tuple[float, Params]]


def make_runners(bench: Bench, params: Params, data: Dataset, seed: int) -> dict[str, Runner]:
    """Label -> a function that builds a fresh side (untimed), times one epoch of it and
    returns (seconds, final params); every side starts from ``params`` and ``seed``."""

    def engine() -> tuple[float, Params]:
        return timed(lambda: engine_epoch(bench, params, data, seed))

    def in_torch(dtype) -> Runner:
        x, y = torch.from_numpy(data.x).to(dtype), torch.from_numpy(data.y).to(dtype)

        def run() -> tuple[float, Params]:
            model = torch_model(bench.spec, params, dtype)
            optimizer = torch_optimizer(model, bench.config, len(data))
            batch = bench.config.batch_size
            seconds, _ = timed(lambda: torch_epoch(model, optimizer, x, y, batch, seed))
            return seconds, torch_params(model)

        return run

    runners = {ENGINE: engine}
    if torch is not None:
        runners[TORCH64] = in_torch(torch.float64)
        runners[TORCH32] = in_torch(torch.float32)
    return runners


Timings = dict[str, list[float]]


def measure(runners: dict[str, Runner], repeats: int) -> tuple[Timings, dict[str, Params]]:
    """One warm-up, then ``repeats`` interleaved timings per side, each after a pause of
    ``SETTLE_SECONDS``; returns the timings and each side's final params."""
    finals = {label: run()[1] for label, run in runners.items()}  # warm-up
    times: Timings = {label: [] for label in runners}
    for _ in range(repeats):
        for label, run in runners.items():
            time.sleep(SETTLE_SECONDS)
            seconds, finals[label] = run()
            times[label].append(seconds)
    return times, finals


def describe(bench: Bench, n: int) -> str:
    """One line: what one epoch of ``bench`` trains, and how."""
    spec, config = bench.spec, bench.config
    norm = " + batch norm on every hidden layer" if spec.normalized else ""
    if config.optimizer == "adam":
        rule = (
            f"Adam eta {config.eta}, beta1 {config.beta1}, beta2 {config.beta2}, eps {config.eps}"
        )
    else:
        rule = f"{config.optimizer.upper()} eta {config.eta}"
    rule += f", lmbda {config.lmbda}" if config.lmbda else ""
    return (
        f"one epoch of {bench.title}: {n:,} MNIST images, {list(spec.sizes)} "
        f"{spec.activation}{norm} + {spec.cost}, mini-batch {config.batch_size}, {rule} "
        f"({config.steps_per_epoch(n)} steps)"
    )


def print_machine(repeats: int) -> None:
    """On which BLAS and how many threads, and how the timings are taken."""
    threads, core = openblas_info()
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(
        f"numpy {np.__version__}: OpenBLAS core {core or '?'}, {threads or '?'} threads"
        + (f" (OPENBLAS_CORETYPE={coretype})" if coretype else "")
    )
    if torch is not None:
        print(f"torch {torch.__version__}: {torch.get_num_threads()} threads")
    print(
        f"{repeats} repeats after 1 warm-up, sides interleaved, each epoch after a "
        f"{SETTLE_SECONDS:g} s pause (BLAS threads idle), time.perf_counter, median of each side\n"
    )


def print_checks(
    bench: Bench, params: Params, data: Dataset, seed: int, finals: dict[str, Params]
) -> None:
    """Both sides' gradients on the first mini-batch, and their parameters after the epoch."""
    for dtype in (torch.float64, torch.float32):
        ours, theirs = first_step_gradients(bench, params, data, seed, dtype)
        largest = max(float(np.max(np.abs(g), initial=0.0)) for g in leaves(ours))
        print(
            f"first-step gradient, torch {str(dtype)[6:]} vs engine: "
            f"max |diff| {max_abs_diff(ours, theirs):.1e} (largest |gradient| {largest:.1e})"
        )
    what = "params and running mean/var" if bench.spec.normalized else "params"
    for label, final in finals.items():
        if label != ENGINE:
            diff = max_abs_diff(finals[ENGINE], final)
            print(f"{what} after the epoch, {label} vs engine: max |diff| {diff:.1e}")
            if label == TORCH64 and diff > 1e-9:
                print("WARNING: the float64 sides disagree, so they do not time the same work")
    print()


def print_table(times: Timings) -> float | None:
    """Median, min and max seconds of each side, and the ratios torch / engine; returns the
    float64 ratio (None without PyTorch)."""
    medians = {label: statistics.median(ts) for label, ts in times.items()}
    ratios = {label: m / medians[ENGINE] for label, m in medians.items() if label != ENGINE}
    ratio_title = "torch / engine" if ratios else ""
    print(f"{'side':<24}{'median s':>10}{'min s':>10}{'max s':>10}{ratio_title:>16}")
    for label, ts in times.items():
        ratio = f"{ratios[label]:.2f}" if label in ratios else ""
        print(f"{label:<24}{medians[label]:>10.4f}{min(ts):>10.4f}{max(ts):>10.4f}{ratio:>16}")
    if not ratios:
        return None
    verdict = "meets" if ratios[TORCH64] >= TARGET_RATIO else "MISSES"
    print(
        f"\nlike for like (float64) the engine is {ratios[TORCH64]:.2f}x as fast as torch: "
        f"{verdict} the target of at least {TARGET_RATIO:g}x "
        f"(against torch float32: {ratios[TORCH32]:.2f}x)"
    )
    return ratios[TORCH64]


def run_bench(key: str, data: Dataset, repeats: int, seed: int) -> None:
    """Time, check and report one benchmark."""
    bench = BENCHES[key]
    print(f"== {key}: " + describe(bench, len(data)))
    params = init_params(bench.spec, rng=np.random.default_rng(seed))
    times, finals = measure(make_runners(bench, params, data, seed), repeats)
    if torch is not None:
        print_checks(bench, params, data, seed, finals)
    print_table(times)
    print()


# --- the baseline: an exported revision, timed in fresh interpreters -----------------------


def engine_worker(root: str, setup: dict, epochs: int, seed: int, out: str) -> None:
    """Time 1 + ``epochs`` epochs of the engine found under ``root``; print the seconds of
    all but the first (a warm-up) as JSON and save the final W and b to ``out`` (.npz).

    Runs in a fresh interpreter (``time_in_subprocess`` sends it its own source), so it
    imports what it needs itself, and works with both layouts: the engine in explain/nn,
    whose sgd_epoch returns an EpochResult, or in explain/ before 24ae0f6, whose sgd_epoch
    returns (params, state, bad_step). Either way its first item is the params.
    """
    import json
    import sys
    import time

    import numpy as np

    sys.path.insert(0, root)
    try:
        from explain.nn import datasets, network, training
    except ModuleNotFoundError:
        from explain import datasets, network, training

    mnist = datasets.load_mnist()
    data = datasets.Dataset(*(np.concatenate(p) for p in zip(mnist.train, mnist.validation)))
    spec = network.NetworkSpec(**setup["spec"])
    config = training.TrainConfig(**setup["config"])
    seconds = []
    for _ in range(1 + epochs):
        params = network.init_params(spec, rng=np.random.default_rng(seed))
        optimizer = config.make_optimizer()
        state = optimizer.init(params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            start = time.perf_counter()
            result = training.sgd_epoch(
                spec, params, state, data, config, optimizer, rng=np.random.default_rng(seed)
            )
            seconds.append(time.perf_counter() - start)
    if result[2] is not None:
        raise RuntimeError(f"the engine at {root} diverged at step {result[2]}")
    np.savez(out, *result[0].W, *result[0].b)
    print(json.dumps(seconds[1:]))


def time_in_subprocess(root: Path, bench: Bench, epochs: int, seed: int) -> tuple[list, list]:
    """(seconds per epoch, final [W..., b...]) of ``engine_worker`` on the engine at ``root``,
    in a fresh interpreter started from ``root``."""
    spec, config = bench.spec, bench.config
    setup = {
        "spec": {"sizes": list(spec.sizes), "activation": spec.activation, "cost": spec.cost},
        "config": {
            "epochs": 1,
            "batch_size": config.batch_size,
            "eta": config.eta,
            "lmbda": config.lmbda,
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "final.npz"
        call = f"engine_worker({str(root)!r}, {setup!r}, {epochs}, {seed}, {str(out)!r})"
        code = textwrap.dedent(inspect.getsource(engine_worker)) + "\n" + call + "\n"
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"the engine worker at {root} failed:\n{proc.stderr}")
        with np.load(out) as saved:
            final = [saved[k] for k in saved.files]
    return json.loads(proc.stdout.strip().splitlines()[-1]), final


def resolve_revision(rev: str) -> str | None:
    """The short hash of the commit ``rev`` names in this repository, or None."""
    proc = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "rev-parse",
            "--verify",
            "--quiet",
            "--short",
            f"{rev}^{{commit}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def export_revision(commit: str, into: Path) -> None:
    """``git archive commit | tar -x -C into``: the repository is only read."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def run_baseline(commit: str, rounds: int, seed: int, epochs: int = 3) -> None:
    """Time the sgd benchmark at ``commit`` and now, alternately, and print the ratio."""
    bench = BENCHES["sgd"]
    with tempfile.TemporaryDirectory(prefix="engine-baseline-") as tmp:
        export_revision(commit, Path(tmp))
        base, now = f"baseline {commit}", "current (work tree)"
        sides = {base: Path(tmp), now: ROOT}
        print(
            f"== baseline: the sgd benchmark's engine at {commit} against the current one; "
            f"{rounds} round{'s' if rounds != 1 else ''}, each a fresh interpreter per side "
            f"(in alternating order) timing {epochs} epochs after 1 warm-up, median over all epochs"
        )
        per_round: list[Timings] = []
        finals = {}
        for r in range(rounds):
            per_round.append({})
            for label in (base, now) if r % 2 == 0 else (now, base):
                seconds, finals[label] = time_in_subprocess(sides[label], bench, epochs, seed)
                per_round[-1][label] = seconds
    diff = max(float(np.max(np.abs(u - v))) for u, v in zip(finals[base], finals[now]))
    print(f"params after the epoch, current vs baseline: max |diff| {diff:.1e}")
    if diff > 1e-9:
        print("WARNING: the two engines disagree, so they do not time the same work")
    print_baseline_table(per_round, base, now)


def print_baseline_table(per_round: list[Timings], base: str, now: str) -> None:
    """Median, min and max seconds of each side over all rounds, the ratio current /
    baseline of the medians with a verdict, and the spread of the per-round ratios."""
    times = {label: [t for r in per_round for t in r[label]] for label in (base, now)}
    print(f"\n{'side':<24}{'median s':>10}{'min s':>10}{'max s':>10}")
    for label, ts in times.items():
        print(f"{label:<24}{statistics.median(ts):>10.4f}{min(ts):>10.4f}{max(ts):>10.4f}")
    ratio = statistics.median(times[now]) / statistics.median(times[base])
    verdict = "within" if ratio <= 1.0 + BASELINE_SLACK else "OUTSIDE"
    change = f"{abs(ratio - 1):.1%} {'slower' if ratio > 1 else 'faster'}"
    rounds = sorted(statistics.median(r[now]) / statistics.median(r[base]) for r in per_round)
    print(
        f"\ncurrent / baseline = {ratio:.3f}: the current engine is {change} than the "
        f"baseline, {verdict} the allowance of {BASELINE_SLACK:.0%} slower "
        f"(round by round: {rounds[0]:.3f} to {rounds[-1]:.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per side")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    parser.add_argument("--which", choices=("sgd", "bn", "both"), default="both")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time the sgd benchmark's engine at this git revision (e.g. 2dc39ef)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    baseline = resolve_revision(args.baseline) if args.baseline else None
    if args.baseline and baseline is None:
        parser.error(f"--baseline {args.baseline!r} names no commit of this repository")
    if torch is None:
        print("PyTorch is not importable, so only the engine is timed.")
        print("To compare: pip install -r bench/requirements.txt\n")
    else:
        threads, _ = openblas_info()
        torch.set_num_threads(threads or os.cpu_count() or 1)  # match NumPy's BLAS
    data = mnist_9000()
    print_machine(args.repeats)
    for key in ("sgd", "bn") if args.which == "both" else (args.which,):
        run_bench(key, data, args.repeats, args.seed)
    if baseline:
        run_baseline(baseline, args.repeats, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
