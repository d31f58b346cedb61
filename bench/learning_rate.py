"""Benchmark: the learning-rate page.

Times, in one run, each computation the page makes, uncached (the page caches each one in
memory and, for MNIST, on disk): at the default settings and at the page's largest; the
issue's target is about 20 s for the longest single computation. MNIST is loaded once
first, as a running server has it loaded.

Usage, from the repository root:  python bench/learning_rate.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as ui.serve runs the site
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explain.learning_rate import (  # noqa: E402
    NEURON,
    RangeSetup,
    ScanSetup,
    neuron_onsets,
    quadratic_regime,
    run_range_test,
    run_scan,
)
from explain.nn.datasets import load_mnist  # noqa: E402
from explain.schedule_lesson import (  # noqa: E402
    DEFAULT,
    DEFAULT_PAIR,
    LARGEST,
    run_batch_pair,
    run_schedules,
)


def seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    load_mnist()
    rows = [
        ("1. quadratic regime (60 steps)", lambda: quadratic_regime(10, 30, 0.5)),
        ("1. the neuron's measured onsets", lambda: neuron_onsets(NEURON)),
        ("2. scan: 8 rates, 10 epochs on 2,000 digits", lambda: run_scan(ScanSetup())),
        ("2. range test: 1,000 steps", lambda: run_range_test(RangeSetup())),
        ("3. six schedules, default (3,000 digits, 20 epochs)", lambda: run_schedules(DEFAULT)),
        ("3. six schedules, largest (4,000 digits, 30 epochs)", lambda: run_schedules(LARGEST)),
        (
            "4. batch pair, batches of 10 and 100 (the slowest offered)",
            lambda: run_batch_pair(DEFAULT_PAIR),
        ),
    ]
    print(f"{'computation (uncached)':<58} seconds   of 20 s")
    for name, fn in rows:
        s = seconds(fn)
        print(f"{name:<58} {s:7.2f}   {100 * s / 20:5.0f}%", flush=True)


if __name__ == "__main__":
    main()
