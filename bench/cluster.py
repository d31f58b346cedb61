"""Benchmark: what a second server process behind nginx buys, measured in one run.

Goal: the same crowd (N concurrent visitors opening one page, K rounds) against the site
behind nginx with one server process, then with two (or more), started by
``deploy/cluster.py``. Prints each set-up's throughput (page runs per second of wall time),
p50 and p95 seconds and errors, and the throughput gain over one process. Both set-ups are
warmed first (every process has run the page once), so this measures reruns, not training.

Non-goals: cold starts (see ``bench/load.py --cold``), other machines. The load client runs
on the same 2-core machine as the servers, so it competes with them for the cores: the gain
is a lower bound of what separate client machines would see. Loopback only, bounded in
sessions (<= 200), rounds (<= 20) and time.

Usage, from the repository root:
    python bench/cluster.py [--page activations] [--sessions 30] [--rounds 3] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import crowd, percentile  # noqa: E402
from bench.stclient import open_page  # noqa: E402
from deploy.cluster import start  # noqa: E402


def measure(url: str, page: str, sessions: int, rounds: int, timeout: float) -> dict:
    """Warm every process, then ``rounds`` crowds of ``sessions``: throughput and latency."""
    for _ in range(8):  # new visitors land on random processes: warm them all
        asyncio.run(open_page(url, page, "", timeout=timeout))
    seconds, results = 0.0, []
    for _ in range(rounds):
        start_round = time.perf_counter()
        results += asyncio.run(crowd(url, page, "", sessions, 0.0, timeout))
        seconds += time.perf_counter() - start_round
    times = [r.seconds for r in results if r.error is None]
    return {
        "runs": len(times),
        "errors": sum(r.error is not None for r in results),
        "throughput": len(times) / seconds,
        "p50": statistics.median(times) if times else float("nan"),
        "p95": percentile(times, 95) if times else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", default="activations", help="a url_path, '' for home")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2, help="the set-up compared with 1")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 200 or not 1 <= args.rounds <= 20 or args.processes < 2:
        parser.error("sessions 1..200, rounds 1..20, processes >= 2")
    print(
        f"{args.sessions} concurrent visitors x {args.rounds} rounds on /{args.page}, "
        "through nginx, every process warmed first\n"
    )
    rows = {}
    for n in (1, args.processes):
        with start(processes=n) as c:
            rows[n] = measure(c.url, args.page, args.sessions, args.rounds, args.timeout)
    print(f"{'processes':<12}{'runs/s':>9}{'p50 s':>9}{'p95 s':>9}{'runs':>7}{'errors':>8}")
    for n, r in rows.items():
        print(
            f"{n:<12}{r['throughput']:>9.2f}{r['p50']:>9.2f}{r['p95']:>9.2f}"
            f"{r['runs']:>7}{r['errors']:>8}"
        )
    gain = rows[args.processes]["throughput"] / rows[1]["throughput"]
    print(f"\nthroughput with {args.processes} processes: {gain:.2f}x that of one process")
    return 0 if all(r["errors"] == 0 for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
