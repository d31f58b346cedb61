"""Benchmark: the batch-normalization page.

Times, in one run, each computation the page makes at its default settings, uncached (the
page caches each one in memory and on disk afterwards); the issue's target is about 20 s
for the longest. MNIST is loaded once first, as a running server has it loaded.

Usage, from the repository root:  python bench/batch_norm.py
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

from explain.bn_experiment import DepthSetup, IoffeSetup, run_depth, run_ioffe  # noqa: E402
from explain.nn.datasets import load_mnist  # noqa: E402
from explain.normalization import (  # noqa: E402
    BatchSizeSetup,
    EvalSetup,
    GridSetup,
    axes_demo,
    eval_batch_effect,
    inference_demo,
    run_batch_sizes,
    run_grid,
    transform_demo,
)


def seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    load_mnist()
    rows = [
        ("1. transform and inference demo (8 digits)",
         lambda: (transform_demo(8), inference_demo(8))),
        ("1. tiny batches at inference (train + 7 evaluations)",
         lambda: eval_batch_effect(EvalSetup())),
        ("2. axes (4 x 6 matrix)", lambda: axes_demo()),
        ("3. Ioffe and Szegedy, both networks, 6,000 steps",
         lambda: (run_ioffe(IoffeSetup(), "none"), run_ioffe(IoffeSetup(), "batch"))),
        ("4. robustness grid, 24 networks", lambda: run_grid(GridSetup())),
        ("4. depth, both 6-layer networks, 2,000 steps",
         lambda: (run_depth(DepthSetup(), "none"), run_depth(DepthSetup(), "batch"))),
        ("4. mini-batch size, 24 networks", lambda: run_batch_sizes(BatchSizeSetup())),
    ]  # fmt: skip
    print(f"{'computation (default settings, uncached)':<58} seconds   of 20 s")
    for name, fn in rows:
        s = seconds(fn)
        print(f"{name:<58} {s:7.1f}   {100 * s / 20:5.0f}%", flush=True)


if __name__ == "__main__":
    main()
