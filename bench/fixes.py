"""Benchmark: the activation-functions and weight-initialization pages.

Times, in one run, what those pages compute:
- the weight-initialization experiment, 10 layers of 500 units fed 1,000 Gaussian inputs,
  forward and backward (target: well under a second), for each activation;
- the two-weight zig-zag neuron with its learning-rate scan (recomputed on every slider move);
- the MNIST runs at the pages' largest settings (cached across sessions afterwards).

Usage, from the repository root:  python bench/fixes.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.experiments import MnistExperiment, run_mnist  # noqa: E402
from explain.propagation import DeepSetup, propagation_stats  # noqa: E402
from explain.symmetry import symmetry_run  # noqa: E402
from explain.zero_centred import TwoWeightSetup, eta_scan, inputs, path  # noqa: E402


def median_s(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def zig_zag() -> None:
    setup = TwoWeightSetup()
    for x in inputs(setup):
        path(x, setup)
        eta_scan(x, setup)


def mnist_largest() -> None:
    base = MnistExperiment(n_train=2000, epochs=20, seed=0)
    for centre in (False, True):
        run_mnist(base.with_(activation="tanh", centre=centre))
    dead = base.with_(
        sizes=(784, 100, 100, 10),
        cost="log_likelihood",
        weight_init="he",
        bias_init="constant",
        bias_value=-1.0,
        eta=0.1,
    )
    run_mnist(dead.with_(activation="relu"))
    run_mnist(dead.with_(activation="leaky_relu"))


def init_training_largest() -> None:
    base = MnistExperiment(sizes=(784, 100, 10), eta=0.1, lmbda=5.0, epochs=15, n_train=8000)
    run_mnist(base.with_(weight_init="normal"))
    run_mnist(base.with_(weight_init="scaled"))


def main() -> None:
    print(f"{'computation':<58}{'seconds':>9}")
    for act, init in (("tanh", "xavier"), ("relu", "he"), ("sigmoid", "small")):
        s = median_s(lambda a=act, i=init: propagation_stats(DeepSetup(10, 500, a, i)))
        print(f"{f'10 x 500 layers, 1,000 inputs, {act} + {init} (median)':<58}{s:>9.2f}")
    s = median_s(zig_zag)
    print(f"{'two-weight neuron: both paths and both eta scans (median)':<58}{s:>9.2f}")
    s = median_s(lambda: symmetry_run("zeros", epochs=5) and symmetry_run("scaled", epochs=5), 1)
    print(f"{'symmetry: zero and random starts, 5 epochs':<58}{s:>9.2f}")
    s = median_s(mnist_largest, 1)
    print(f"{'activations page MNIST runs, 20 epochs each (4 networks)':<58}{s:>9.1f}")
    s = median_s(init_training_largest, 1)
    print(f"{'init page: [784, 100, 10], 15 epochs on 8,000, both inits':<58}{s:>9.1f}")


if __name__ == "__main__":
    main()
