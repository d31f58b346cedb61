"""Benchmark: how long each long computation of the vanishing-gradients page takes.

The page bounds every setting to about 20 s on a 2-core machine (and caches the result
across sessions). This times, in one run, each of its MNIST computations at the page's
largest settings, for the book's sigmoid networks and for ReLU:

- at initialization: gradient norms of the 2-, 3- and 4-hidden-layer networks, 10 seeds;
- speed of learning: 3 networks, 300 epochs of full-batch gradient descent on 1,000 digits;
- accuracy against depth: 4 networks, 20 epochs of mini-batch SGD on 8,000 digits.

Usage, from the repository root:  python bench/unstable.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.experiments import run_mnist  # noqa: E402
from explain.unstable import (  # noqa: E402
    depth_accuracy_experiments,
    hidden_spec,
    init_norms_over_seeds,
    speed_of_learning_experiments,
)


def init_norms(activation: str) -> None:
    for k in (2, 3, 4):
        init_norms_over_seeds(hidden_spec(k, activation), range(10))


def speed_of_learning(activation: str) -> None:
    for exp in speed_of_learning_experiments(activation, epochs=300):
        run_mnist(exp)


def accuracy_against_depth(activation: str) -> None:
    for exp in depth_accuracy_experiments(activation, epochs=20):
        run_mnist(exp)


def main() -> None:
    print("seconds for each computation at the page's largest settings (one run)")
    print(f"{'computation':<28}{'activation':>12}{'seconds':>10}{'of 20 s':>10}")
    for name, fn in (
        ("at initialization", init_norms),
        ("speed of learning", speed_of_learning),
        ("accuracy against depth", accuracy_against_depth),
    ):
        for activation in ("sigmoid", "relu"):
            t = time.perf_counter()
            fn(activation)
            s = time.perf_counter() - t
            print(f"{name:<28}{activation:>12}{s:>10.1f}{s / 20:>10.0%}", flush=True)


if __name__ == "__main__":
    main()
