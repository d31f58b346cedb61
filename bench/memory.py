"""Benchmark: the server's resident memory after every page was opened at many settings.

Goal: show that memory stays bounded as visitors try setting after setting: every cache has
a bound (``st.cache_data(max_entries=...)``, the chart-specification cache's byte budget),
so the server's resident set levels off instead of growing with each new setting. Opens
each page at each of a list of settings (one visitor at a time, over Streamlit's own
protocol), prints the resident memory (server and children, VmRSS) after each page, and the
peak. Target: under 1.5 GiB per process.

Non-goals: concurrency (bench/load.py), MNIST settings beyond a few (each is seconds of
training). Loopback only; a fresh server is started and stopped by the script.

Usage, from the repository root:  python bench/memory.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import rss_mib, start_server, stop_server  # noqa: E402
from bench.stclient import open_page  # noqa: E402

TARGET_MIB = 1536


def grid(**axes) -> list[str]:
    """Every combination of the given query values, as query strings."""
    keys = list(axes)
    return [
        "&".join(f"{k}={v}" for k, v in zip(keys, combo))
        for combo in itertools.product(*(axes[k] for k in keys))
    ]


SETTINGS: dict[str, list[str]] = {
    "": grid(z=[-8, -4, -2, 0, 1, 3, 6, 8]),
    "learning-slowdown": grid(w0=[-10, -2, 0.6, 2, 10], b0=[-10, 0.9, 2, 10], epochs=[300, 1000]),
    "cross-entropy": grid(w0=[-4, 0.6, 2, 8], b0=[-4, 0.9, 2], y=[0.0, 1.0]),
    "vanishing-gradients": grid(depth=[2, 8, 20], chain_w=["normal", "fixed"], chain_seed=[0, 1])
    + grid(hidden=[1, 2, 3, 4]),
    "activations": grid(depth=[2, 8, 20], width=[10, 50, 200], mean=[0.5, 3.0]),
    "weight-initialization": grid(act=["tanh", "relu", "sigmoid"], depth=[2, 10], width=[100, 500])
    + grid(seed=[0, 1]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="passes over all settings")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    server = start_server([])
    peak, errors, visits = 0.0, 0, 0
    try:
        print(f"{'after':<40}{'visits':>8}{'RSS MiB':>10}")
        for r in range(1, max(1, min(args.rounds, 5)) + 1):
            for page, queries in SETTINGS.items():
                for query in queries:
                    result = asyncio.run(open_page(server.url, page, query, timeout=args.timeout))
                    errors += result.error is not None
                    visits += 1
                rss = rss_mib(server.process.pid)
                peak = max(peak, rss)
                print(f"{f'round {r}: /{page}':<40}{visits:>8}{rss:>10.0f}", flush=True)
    finally:
        stop_server(server)
    verdict = "meets" if peak < TARGET_MIB else "MISSES"
    print(
        f"\npeak {peak:.0f} MiB over {visits} visits ({errors} errors): {verdict} the target "
        f"of {TARGET_MIB} MiB per process"
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
