"""Benchmark: server CPU of one warm page run, before and after, in the same run.

Goal: for every page at its default settings, one visitor at a time with every cache warm,
the server's CPU seconds per page run (and the wall seconds the visitor waits), for the
current code and for an earlier revision of the repository (default: ``2dc39ef``, the last
landing before charts became cached recipes and pages fragments), measured alternately in
one run. The earlier revision is exported with ``git archive`` into a temporary folder and
started as it was meant to be (``streamlit run streamlit_app.py``); the current code with
``python -m ui.serve``. Target: at most 150 ms of server CPU per run on every page.

Non-goals: concurrency (bench/load.py), cold starts. Loopback only.

Usage, from the repository root:  python bench/rerun.py [--baseline 2dc39ef] [--repeat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import cpu_seconds, free_port, wait_healthy  # noqa: E402
from bench.stclient import open_page  # noqa: E402
from ui.site import PAGES  # noqa: E402

TARGET_MS = 150


def export(rev: str, into: Path) -> Path:
    """The repository at ``rev``, unpacked into ``into`` (the repository is only read)."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def start(cwd: Path, launcher: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", *launcher, f"--server.port={port}"]
    cmd += ["--server.address=127.0.0.1", "--server.headless=true"]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, 90)
    return proc, url


def one_run(url: str, pid: int, page: str) -> tuple[float, float]:
    """(server CPU seconds, visitor's wall seconds) of one page run."""
    before = cpu_seconds(pid)
    result = asyncio.run(open_page(url, page, "", timeout=600))
    if result.error:
        raise RuntimeError(f"/{page}: {result.error}")
    return cpu_seconds(pid) - before, result.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="2dc39ef", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=10, help="runs per page and side")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rerun-baseline-") as tmp:
        sides = {
            f"before ({args.baseline})": start(
                export(args.baseline, Path(tmp)), ["streamlit", "run", "streamlit_app.py"]
            ),
            "after": start(ROOT, ["ui.serve"]),
        }
        try:
            return report(sides, max(1, min(args.repeat, 50)))
        finally:
            for proc, _ in sides.values():
                proc.terminate()
                proc.wait(timeout=20)


def report(sides: dict, repeat: int) -> int:
    pages = [p.url_path for p in PAGES]
    for proc, url in sides.values():  # warm every page on both sides (trains what it must)
        for page in pages:
            one_run(url, proc.pid, page)
    cpu = {(s, p): [] for s in sides for p in pages}
    wall = {(s, p): [] for s in sides for p in pages}
    for _ in range(repeat):  # alternate the sides, so both see the same machine
        for page in pages:
            for side, (proc, url) in sides.items():
                c, w = one_run(url, proc.pid, page)
                cpu[side, page].append(c)
                wall[side, page].append(w)
    before, after = sides
    print(f"median of {repeat} warm runs per page, one visitor, server CPU (all threads)\n")
    print(
        f"{'page':<24}{'CPU ms before':>15}{'CPU ms after':>14}{'before/after':>14}"
        f"{'wait s before':>15}{'wait s after':>14}"
    )
    worst = 0.0
    for page in pages:
        cb, ca = (1000 * statistics.median(cpu[s, page]) for s in (before, after))
        wb, wa = (statistics.median(wall[s, page]) for s in (before, after))
        worst = max(worst, ca)
        ratio = f"{cb / ca:.1f}x" if ca > 0 else "-"
        print(f"{page or 'home':<24}{cb:>15.0f}{ca:>14.0f}{ratio:>14}{wb:>15.2f}{wa:>14.2f}")
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(
        f"\nslowest page after: {worst:.0f} ms of server CPU per run: {verdict} the target "
        f"of {TARGET_MS} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
