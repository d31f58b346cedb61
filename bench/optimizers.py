"""Benchmark: the optimizers page.

Times, in one run, what the page computes:
- a slider move on the surfaces (section 1): the race of the chosen optimizers, each path's
  summary, and the contour grid, at the default preset and at the page's largest setting
  (all six optimizers, 400 steps, noise); target under 50 ms of simulation;
- the theory section (optimal runs and the learning-rate scan) and the Adam section;
- the MNIST comparison (section 4) cold, at the default setting and at the largest.

Usage, from the repository root:  python bench/optimizers.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as ui.serve runs the site
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.descent import (  # noqa: E402
    OPTIMIZER_NAMES,
    SUGGESTED_ETAS,
    SURFACE_NAMES,
    Race,
    Setting,
    Terrain,
    adam_first_steps,
    optimal_run,
    race,
    rate_scan,
    scale_check,
    summarize,
)
from explain.nn.surfaces import grid  # noqa: E402


def median_ms(fn, repeats: int = 9) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def slider_move(r: Race) -> None:
    surface = r.terrain.build()
    for label, p in race(r).items():
        summarize(label, p, surface)
    grid(surface, 60)


def default_race() -> Race:
    names = ("sgd", "momentum", "adam")
    etas = dict(sgd=1.9, momentum=0.2, adam=0.2)
    return Race(Terrain("quadratic", 50, 30), tuple(Setting(n, etas[n]) for n in names), steps=150)


def largest_race(surface: str) -> Race:
    settings = tuple(Setting(n, SUGGESTED_ETAS[surface][n]) for n in OPTIMIZER_NAMES)
    return Race(Terrain(surface, 200, 30), settings, steps=400, noise=0.3)


def adam_section() -> None:
    adam_first_steps(0.9, 0.999, 60)
    for name in SURFACE_NAMES:
        for opt in ("adam", "sgd"):
            scale_check(Terrain(name), Setting(opt, SUGGESTED_ETAS[name][opt]), 150)


def mnist(which: str) -> float:
    from explain.experiments import run_mnist
    from explain.optimizer_race import RaceSetup

    setup = RaceSetup() if which == "default" else largest_setup()
    t = time.perf_counter()
    for exp in setup.experiments():
        run_mnist(exp)
    return time.perf_counter() - t


def largest_setup():
    """The page's largest race: all six optimizers, 4 hidden layers, 4,000 digits, 20 epochs."""
    from explain.optimizer_race import DEFAULT_ETAS, RaceSetup

    return RaceSetup(tuple(DEFAULT_ETAS), hidden_layers=4, n_train=4000, epochs=20)


def main() -> None:
    ms = median_ms(lambda: slider_move(default_race()))
    print(f"section 1, default preset (3 optimizers, 150 steps): {ms:6.1f} ms")
    for surface in SURFACE_NAMES:
        r = largest_race(surface)
        ms = median_ms(lambda r=r: slider_move(r), repeats=5)
        print(f"section 1, largest ({surface}: 6 optimizers, 400 steps, noise): {ms:6.1f} ms")
    ms = median_ms(lambda: (optimal_run(200), rate_scan(200, 0.9)), 3)
    print(f"section 2, theory at kappa 200, beta 0.9: {ms:6.1f} ms")
    print(f"section 3, Adam's first steps and scale checks: {median_ms(adam_section, 3):6.1f} ms")
    if "--no-mnist" not in sys.argv:
        print(f"section 4, MNIST default, cold: {mnist('default'):5.1f} s")
        print(f"section 4, MNIST largest, cold: {mnist('largest'):5.1f} s")


if __name__ == "__main__":
    main()
