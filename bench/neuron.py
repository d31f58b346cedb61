"""Benchmark: simulation time of one interaction on the one-neuron pages.

Each slider move on "Learning slowdown" or "The cross-entropy fix" reruns the neuron
simulations below. The target is well under 100 ms of simulation time; this prints
the median over repeats of each, in one run, at the default and the largest settings.

Usage, from the repository root:  python bench/neuron.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.neuron import (  # noqa: E402
    NeuronSetup,
    arrival,
    cost_surface,
    gradient_profile,
    train_neuron,
    window,
)


def slowdown_page(epochs: int) -> None:
    """What the learning-slowdown page computes: three starts, the surface, and the run of
    at least 2,000 epochs behind its "arriving" section."""
    run = train_neuron(NeuronSetup((0.6, 2.0, 7.0), (0.9, 2.0, 7.0), epochs=epochs))
    w, b = window(run)
    cost_surface("quadratic", 1.0, 0.0, w, b, n=41)
    arrival(train_neuron(NeuronSetup((7.0,), (7.0,), epochs=max(epochs, 2000))))


def cross_entropy_page(epochs: int) -> None:
    """What the cross-entropy page computes apart from MNIST: both costs, the profile."""
    for cost, eta in (("quadratic", 0.15), ("cross_entropy", 0.005)):
        train_neuron(
            NeuronSetup((0.6, 2.0, 7.0), (0.9, 2.0, 7.0), eta=eta, epochs=epochs, cost=cost)
        )
    gradient_profile(0.0, np.linspace(-10, 10, 801))


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"median of {args.repeats} repeats, simulation only (no drawing)")
    print(f"{'page':<24}{'epochs':>8}{'ms':>10}{'share of 100 ms':>18}")
    for name, fn in (
        ("learning slowdown", slowdown_page),
        ("cross-entropy fix", cross_entropy_page),
    ):
        for epochs in (300, 1000):
            ms = median_ms(lambda fn=fn, epochs=epochs: fn(epochs), args.repeats)
            print(f"{name:<24}{epochs:>8}{ms:>10.1f}{ms / 100:>17.0%}")


if __name__ == "__main__":
    main()
