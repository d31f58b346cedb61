"""The load benchmark's websocket client (bench/stclient.py) against the real server.

Starts ``python -m ui.serve`` on a free loopback port once for the module, opens pages through
Streamlit's own protocol as concurrent visitors, and checks that the client refuses servers
that are not on loopback.
"""

from __future__ import annotations

import asyncio
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.load import parse_args
from bench.stclient import connect_session, open_page, read_run, rerun_backmsg

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


@pytest.fixture(scope="module")
def server_url():
    port = _free_port()
    cmd = [sys.executable, "-m", "ui.serve", f"--server.port={port}"]
    cmd += ["--server.address=127.0.0.1", "--server.headless=true"]
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _visit_concurrently(url: str, page: str, sessions: int):
    async def crowd():
        return await asyncio.gather(*(open_page(url, page, timeout=60) for _ in range(sessions)))

    return asyncio.run(crowd())


def test_two_concurrent_visitors_open_home(server_url):
    results = _visit_concurrently(server_url, "", 2)
    assert len(results) == 2
    assert [r.error for r in results] == [None, None]
    assert all(math.isfinite(r.seconds) and r.seconds > 0 for r in results)
    assert all(r.messages > 0 for r in results)


def test_unknown_page_counts_as_an_error(server_url):
    (result,) = _visit_concurrently(server_url, "no-such-page", 1)
    assert result.error == "page not found"


def test_cached_messages_come_back_as_resolvable_references(server_url):
    """A rerun that lists the charts it holds gets ref_hash stand-ins, resolved from the cache."""

    async def two_runs():
        origin = server_url
        async with await connect_session(origin, timeout=30) as ws:
            cache = {}
            await ws.send(rerun_backmsg(origin, "learning-slowdown", "").SerializeToString())
            first = await read_run(ws, cache)
            msg = rerun_backmsg(origin, "learning-slowdown", "", cached_hashes=list(cache))
            await ws.send(msg.SerializeToString())
            return first, await read_run(ws, cache), len(cache)

    (err1, _, bytes1), (err2, _, bytes2), n_cached = asyncio.run(two_runs())
    assert n_cached > 0
    assert err1 is None
    assert err2 is None
    assert bytes2 < bytes1 / 2


@pytest.mark.parametrize("url", ["http://example.com:8501", "http://10.0.0.1:8501"])
def test_non_loopback_urls_are_refused(url):
    with pytest.raises(ValueError, match="refusing"):
        asyncio.run(open_page(url, "", timeout=5))
    with pytest.raises(SystemExit):
        parse_args(["--url", url])


async def _page_text(url: str, page: str, query: str) -> str:
    """Open a page as a new visitor and return every markdown body its run sent."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    origin = url
    bodies = []
    async with await connect_session(origin, 60) as ws:
        await ws.send(rerun_backmsg(origin, page, query).SerializeToString())
        while True:
            msg = ForwardMsg.FromString(await ws.recv(decode=False))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "markdown":
                bodies.append(msg.delta.new_element.markdown.body)
            assert not (kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception")
            if (
                kind == "script_finished"
                and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
            ):
                return "\n".join(bodies)


def test_two_sessions_with_different_settings_each_see_their_own(server_url):
    """Two visitors open the slowdown page at the same time with different starts; each run
    speaks of its own neuron (its error a - y = sigma(w0 + b0) at x = 1, y = 0), not the
    other's."""

    async def both():
        return await asyncio.gather(
            _page_text(server_url, "learning-slowdown", "w0=-1&b0=-1"),  # a = σ(-2) = 0.119
            _page_text(server_url, "learning-slowdown", "w0=0.5&b0=-0.5"),  # a = σ(0) = 0.5
        )

    text_a, text_b = asyncio.run(both())
    mine_a, mine_b = "a − y = **0.119**", "a − y = **0.5**"
    assert mine_a in text_a and mine_b in text_b
    assert mine_b not in text_a and mine_a not in text_b
