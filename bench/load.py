"""Benchmark: what a lecture hall does to the server.

Goal: N visitors open the same page (with its query string) at once, each in a session of its
own over Streamlit's websocket protocol (``bench/stclient.py``); measure, per page, the seconds
from each visitor's rerun request to its script's end (p50, p95, max), how many runs finished
and how many failed (an exception element, page not found, a closed socket, a timeout). When
the script starts the server itself it also reports the server's CPU seconds per round (utime +
stime from /proc, threads and child processes included) and its resident memory (VmRSS).

Modes: ``--start-server`` runs a fresh ``python -m ui.serve`` on a free loopback port, and
warms it with one visit per page before measuring; ``--cold`` gives every page a fresh server
instead, so that the first arrival computes and the others wait on the cache. ``--repeat K``
runs K rounds one after another (``--sessions 1 --repeat K`` is the floor: no contention).

Non-goals: a browser (no rendering, no JavaScript, no static files), widget or fragment
interaction, remote servers (loopback only), tuning. The client runs in this one process, so
with hundreds of sessions its own parsing adds a little to the times.

Usage, from the repository root:
    python bench/load.py --start-server --page all --sessions 1 --repeat 3
    python bench/load.py --url http://127.0.0.1:8501 --page learning-slowdown \\
        --query "w0=2&b0=2" --sessions 30 --ramp 0 --timeout 120 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stclient import RunResult, loopback_origin, open_page  # noqa: E402
from ui.site import PAGES  # noqa: E402

MAX_SESSIONS = 200
MAX_REPEAT = 50
MAX_TIMEOUT = 600.0
MAX_DEADLINE = 3600.0
SERVER_START_TIMEOUT = 60.0


class PageStats(NamedTuple):
    """One page's numbers; times in seconds over the runs that finished, nan if none did."""

    page: str
    query: str
    sessions: int
    runs: int
    errors: int
    p50: float
    p95: float
    max: float
    cpu_s: list[float]  # server CPU seconds per round; empty if the server is not ours
    rss_mib: float | None  # server resident memory after the page; None if not ours
    warmup_s: float | None  # the warm-up visit's seconds (the cold run); None if not warmed
    error_kinds: dict[str, int]


class Server(NamedTuple):
    """A server this script started."""

    process: subprocess.Popen
    url: str
    log: Path


# --- statistics -------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` in [0, 100] of ``values``; nan if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarize(
    page: str, query: str, sessions: int, results: list[RunResult], cpu_s: list[float]
) -> PageStats:
    """Reduce a page's runs (all rounds) to its PageStats."""
    times = [r.seconds for r in results if not math.isnan(r.seconds)]
    kinds = Counter(r.error for r in results if r.error)
    return PageStats(
        page=page,
        query=query,
        sessions=sessions,
        runs=len(results),
        errors=sum(kinds.values()),
        p50=percentile(times, 50),
        p95=percentile(times, 95),
        max=max(times, default=math.nan),
        cpu_s=cpu_s,
        rss_mib=None,
        warmup_s=None,
        error_kinds=dict(kinds),
    )


def format_stats(s: PageStats) -> str:
    """One human-readable line for a page."""
    name = (s.page or "home") + (f"?{s.query}" if s.query else "")
    line = (
        f"{name:<40} sessions={s.sessions:<3} runs={s.runs:<4} errors={s.errors:<3} "
        f"p50={s.p50:.3f} p95={s.p95:.3f} max={s.max:.3f} s"
    )
    if s.cpu_s:
        line += "  cpu/round=[" + ", ".join(f"{c:.2f}" for c in s.cpu_s) + "] s"
    if s.rss_mib is not None:
        line += f"  rss={s.rss_mib:.0f} MiB"
    if s.error_kinds:
        line += f"  {json.dumps(s.error_kinds)}"
    return line


# --- the server's process: /proc ---------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat from the 3rd (state) on; the name may hold spaces."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue  # exited while we looked
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, p in parent.items() if p in frontier]
        tree += frontier
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by ``pid`` and its children."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = _stat_fields(p)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` and its children, in MiB."""
    kib = 0
    for p in process_tree(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        kib += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return kib / 1024


# --- starting and stopping the server ----------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Return once ``/_stcore/health`` answers; raise if the server dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:g} s")


def start_server(extra_args: list[str], home: str | None = None) -> Server:
    """Start ``python -m ui.serve`` on a free loopback port and wait until it is healthy.

    ``home``: a HOME folder for the server, so that Streamlit's disk cache (under
    ~/.streamlit/cache) starts empty there, as on a first deployment.
    """
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="load-server-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "ui.serve", f"--server.port={port}"]
    cmd += ["--server.address=127.0.0.1", "--server.headless=true", *extra_args]
    with log.open("wb") as out:
        env = {**os.environ, "HOME": home} if home else None
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_healthy(server.url, process, SERVER_START_TIMEOUT)
    except RuntimeError as exc:
        stop_server(server)
        raise RuntimeError(f"{exc}; log:\n{log.read_text()[-2000:]}") from exc
    return server


def stop_server(server: Server) -> None:
    """Terminate the server (kill it if it lingers) and remove its log."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log.unlink(missing_ok=True)


@contextmanager
def serving(args: argparse.Namespace) -> Iterator[tuple[str, int | None]]:
    """(url, pid): a fresh server if asked for, else ``args.url`` with no pid."""
    if not args.start_server:
        yield args.url, None
        return
    home = tempfile.mkdtemp(prefix="load-home-") if args.empty_disk_cache else None
    server = start_server(args.server_arg, home)
    try:
        yield server.url, server.process.pid
    finally:
        stop_server(server)
        if home:
            shutil.rmtree(home, ignore_errors=True)


# --- the load ----------------------------------------------------------------------------


async def crowd(
    url: str, page: str, query: str, sessions: int, ramp: float, timeout: float
) -> list[RunResult]:
    """``sessions`` visitors open the page, arriving evenly over ``ramp`` seconds."""

    async def visitor(i: int) -> RunResult:
        await asyncio.sleep(i * ramp / sessions)
        return await open_page(url, page, query, timeout=timeout)

    return list(await asyncio.gather(*(visitor(i) for i in range(sessions))))


def run_rounds(
    url: str, pid: int | None, page: str, args: argparse.Namespace, deadline: float
) -> tuple[list[RunResult], list[float]]:
    """``args.repeat`` rounds of the crowd, one after another; (all runs, CPU s per round)."""
    results, cpu = [], []
    for _ in range(args.repeat):
        budget = min(args.timeout, deadline - time.monotonic())
        if budget <= 0:
            break
        before = cpu_seconds(pid) if pid else 0.0
        results += asyncio.run(crowd(url, page, args.query, args.sessions, args.ramp, budget))
        if pid:
            cpu.append(cpu_seconds(pid) - before)
    return results, cpu


def warm(url: str, pages: list[str], args: argparse.Namespace, deadline: float) -> dict:
    """One visit per page, so that measured rounds find the caches filled; page -> seconds."""
    seconds = {}
    for page in pages:
        budget = min(args.timeout, deadline - time.monotonic())
        if budget <= 0:
            break
        result = asyncio.run(open_page(url, page, args.query, timeout=budget))
        seconds[page] = result.seconds
        print(f"warm-up {page or 'home'}: {result.seconds:.3f} s {result.error or ''}", flush=True)
    return seconds


def bench_page(
    url: str, pid: int | None, page: str, args: argparse.Namespace, deadline: float
) -> PageStats:
    """Measure one page on a running server."""
    results, cpu = run_rounds(url, pid, page, args, deadline)
    stats = summarize(page, args.query, args.sessions, results, cpu)
    return stats._replace(rss_mib=rss_mib(pid) if pid else None)


def bench(args: argparse.Namespace, pages: list[str]) -> list[PageStats]:
    """Every page, on one warmed server or (``--cold``) each on a fresh one."""
    deadline = time.monotonic() + args.deadline
    stats = []
    if args.cold:
        for page in pages:
            with serving(args) as (url, pid):
                stats.append(bench_page(url, pid, page, args, deadline))
            print(format_stats(stats[-1]), flush=True)
        return stats
    with serving(args) as (url, pid):
        warmup = warm(url, pages, args, deadline)
        for page in pages:
            stats.append(bench_page(url, pid, page, args, deadline))
            stats[-1] = stats[-1]._replace(warmup_s=warmup.get(page))
            print(format_stats(stats[-1]), flush=True)
    return stats


# --- command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and bound the command line; refuses non-loopback URLs."""
    pages = ["all", "home"] + [p.url_path for p in PAGES if p.url_path]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server on loopback, e.g. http://127.0.0.1:8501")
    parser.add_argument("--start-server", action="store_true", help="start python -m ui.serve")
    parser.add_argument("--cold", action="store_true", help="a fresh server for every page")
    parser.add_argument("--server-arg", action="append", default=[], help="extra server option")
    parser.add_argument(
        "--empty-disk-cache",
        action="store_true",
        help="started servers get an empty disk cache (a first deployment), not the warm one",
    )
    parser.add_argument("--page", default="home", choices=pages)
    parser.add_argument("--query", default="", help='query string, e.g. "w0=2&b0=2"')
    parser.add_argument("--sessions", type=int, default=1, help=f"1..{MAX_SESSIONS}")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which they arrive")
    parser.add_argument("--repeat", type=int, default=1, help=f"rounds, 1..{MAX_REPEAT}")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per round")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds in all")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)
    if args.start_server == bool(args.url):
        parser.error("give exactly one of --url and --start-server")
    if args.cold and not args.start_server:
        parser.error("--cold needs --start-server")
    try:
        if args.url:
            loopback_origin(args.url)
    except ValueError as exc:
        parser.error(str(exc))
    if not (1 <= args.sessions <= MAX_SESSIONS and 1 <= args.repeat <= MAX_REPEAT):
        parser.error(f"--sessions must be 1..{MAX_SESSIONS}, --repeat 1..{MAX_REPEAT}")
    if not (0 < args.timeout <= MAX_TIMEOUT and 0 < args.deadline <= MAX_DEADLINE):
        parser.error(f"--timeout must be in (0, {MAX_TIMEOUT:g}], --deadline (0, {MAX_DEADLINE:g}]")
    if not 0 <= args.ramp <= MAX_TIMEOUT:
        parser.error(f"--ramp must be in [0, {MAX_TIMEOUT:g}]")
    return args


def json_record(args: argparse.Namespace, stats: list[PageStats]) -> dict:
    """The run's settings and numbers as plain JSON values (nan -> null)."""

    def plain(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    keys = ("cold", "sessions", "ramp", "repeat", "timeout", "query")
    pages = [{k: plain(v) for k, v in s._asdict().items()} for s in stats]
    return {k: getattr(args, k) for k in keys} | {"pages": pages}


def main(argv: list[str] | None = None) -> list[PageStats]:
    """Run the benchmark from the command line; returns the numbers it printed."""
    args = parse_args(argv)
    if args.page == "all":
        pages = [p.url_path for p in PAGES]
    else:
        pages = ["" if args.page == "home" else args.page]
    stats = bench(args, pages)
    if args.json:
        print(json.dumps(json_record(args, stats)))
    return stats


if __name__ == "__main__":
    main()
