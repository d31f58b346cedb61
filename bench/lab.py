"""Benchmark: the training lab.

Times, in one run, the lab's training at its default configuration, at each preset, and at
the largest configuration its controls allow, uncached (the page caches each configuration
on disk); the issue's targets: under about 10 s at the default, under about 60 s at the
largest, with progress. MNIST is loaded once first, as a running server has it loaded.

Usage, from the repository root:  python bench/lab.py
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

from explain.lab import LARGEST, PRESETS, LabConfig, run_lab  # noqa: E402
from explain.nn.datasets import load_mnist  # noqa: E402


def seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    load_mnist()
    rows = [("default", LabConfig(), 10)]
    rows += [(f"preset {name}", LabConfig(**values), 10) for name, values in PRESETS.items()]
    rows.append(("largest allowed", LARGEST, 60))
    print(f"{'configuration (uncached)':<34} seconds   target")
    for name, config, target in rows:
        s = seconds(lambda config=config: run_lab(config))
        print(f"{name:<34} {s:7.1f}   {target} s", flush=True)


if __name__ == "__main__":
    main()
