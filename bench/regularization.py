"""Benchmark: the overfitting and regularization page.

Times, in one run, each remedy's training at the page's default settings (1,000 digits, 300
epochs) and the slowest setting it offers (L1 on 8,000 digits for 50 epochs), uncached (the
page caches each run on disk); the issue's target is about 20 s for the longest single
computation. MNIST is loaded once first, as a running server has it loaded.

Usage, from the repository root:  python bench/regularization.py
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

from explain.nn.datasets import load_mnist  # noqa: E402
from explain.regularization_lesson import DEFAULT, KINDS, LARGEST, run_remedy  # noqa: E402


def seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    load_mnist()
    print(f"{'run (uncached)':<52} seconds   of 20 s")
    for kind in KINDS:
        s = seconds(lambda kind=kind: run_remedy(DEFAULT.remedy(kind)))
        print(f"{'default, ' + kind:<52} {s:7.1f}   {100 * s / 20:5.0f}%", flush=True)
    s = seconds(lambda: run_remedy(LARGEST))
    print(f"{'largest offered: L1, 8,000 digits, 50 epochs':<52} {s:7.1f}   {100 * s / 20:5.0f}%")


if __name__ == "__main__":
    main()
