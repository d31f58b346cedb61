"""deploy/cluster.py: several Streamlit processes behind nginx, sticky per browser.

Starts real clusters (two processes each, about 2 s to start); skipped without Debian's nginx
unless CI is set, where a missing nginx is an error.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from deploy.cluster import (
    NGINX,
    alive,
    cluster,
    group,
    loopback,
    main,
    render_config,
    start,
)

if not Path("/usr/sbin/nginx").exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's nginx at /usr/sbin/nginx (apt-get install nginx)")
    pytest.skip("needs Debian's nginx at /usr/sbin/nginx", allow_module_level=True)

FILE_DIRECTIVES = {
    "pid",
    "error_log",
    "access_log",
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "uwsgi_temp_path",
    "scgi_temp_path",
}
TRIES = 40  # fresh clients; all on one of two processes by chance: 2 * 2**-40


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """A GET as a client with at most the one ``cookie`` ("name=value"), no cookie jar."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as r:
        headers: dict[str, list[str]] = {}
        for name, value in r.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        return r.status, headers, r.read()


def set_cookies(headers: dict[str, list[str]]) -> dict[str, str]:
    """name -> value of every Set-Cookie in a response."""
    pairs = (c.split(";")[0].split("=", 1) for c in headers.get("set-cookie", []))
    return dict(pairs)


def upstream(headers: dict[str, list[str]]) -> int:
    """The port of the process that answered, from nginx's X-Upstream header."""
    (addr,) = headers["x-upstream"]
    return int(addr.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def site():
    with start(processes=2) as c:
        yield c


def pinned_cookies(site) -> dict[int, str]:
    """For each backend port, a routing cookie that a fresh client was given there."""
    found: dict[int, str] = {}
    for _ in range(TRIES):
        _, headers, _ = get(site.url + "/_stcore/health")
        found.setdefault(upstream(headers), "strouting=" + set_cookies(headers)["strouting"])
    return found


def test_health_through_nginx(site):
    status, _, body = get(site.url + "/_stcore/health")
    assert (status, body) == (200, b"ok")


def test_home_page_is_streamlits_html(site):
    status, headers, body = get(site.url + "/")
    assert status == 200
    assert headers["content-type"][0].startswith("text/html")
    assert b'<div id="root">' in body
    direct = get(site.backends[0].url + "/")[2]
    assert body == direct


def test_fresh_clients_spread_over_both_processes(site):
    """No IP stickiness: cookieless clients from one address reach every process."""
    assert set(pinned_cookies(site)) == {b.port for b in site.backends}


def test_a_cookie_pins_its_process(site):
    for port, cookie in pinned_cookies(site).items():
        for _ in range(10):
            _, headers, _ = get(site.url + "/", cookie)
            assert upstream(headers) == port
            assert "strouting" not in set_cookies(headers), "a pinned client gets no new route"


async def open_session(url: str, cookie: str, host: str | None = None) -> tuple[int, int, str]:
    """Open /_stcore/stream as the browser does and run the page once.

    ``host`` (a name:port) is sent as Host and Origin while connecting to ``url``'s address,
    as a browser that reached the site by a name would. Returns the handshake's status, the
    port of the process that answered it, and the type of the last message received.
    """
    netloc = url.removeprefix("http://")
    xsrf = set_cookies(get(url + "/_stcore/health", cookie)[1])["_streamlit_xsrf"]
    async with websockets.connect(
        f"ws://{host or netloc}/_stcore/stream",
        host="127.0.0.1",  # where to connect; the URL gives the Host header
        port=int(netloc.rsplit(":", 1)[1]),
        origin=f"http://{host or netloc}",
        subprotocols=["streamlit", xsrf],
        additional_headers={"Cookie": f"{cookie}; _streamlit_xsrf={xsrf}"},
        max_size=None,
    ) as ws:
        assert ws.subprotocol == "streamlit"
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        await ws.send(rerun.SerializeToString())
        kind = ""
        while kind != "script_finished":
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
            kind = msg.WhichOneof("type")
        port = int(ws.response.headers["X-Upstream"].rsplit(":", 1)[1])
        return ws.response.status_code, port, kind


async def handshake(url: str, origin: str) -> int:
    """The status of a websocket handshake on /_stcore/stream sent with ``origin``."""
    stream = url.replace("http", "ws", 1) + "/_stcore/stream"
    try:
        async with websockets.connect(stream, origin=origin, subprotocols=["streamlit"]) as ws:
            return ws.response.status_code
    except websockets.InvalidStatus as e:
        return e.response.status_code


def test_websocket_reaches_the_pinned_process_and_runs_the_page(site):
    """101 Switching Protocols through nginx, on the process the cookie pins, and the home
    page's script runs to the end over it (messages stream through the proxy)."""
    for port, cookie in pinned_cookies(site).items():
        assert asyncio.run(open_session(site.url, cookie)) == (101, port, "script_finished")


def test_websocket_by_host_name(site):
    """A browser that reached the proxy as explainer.test:<port> is let in: nginx forwards its
    Host with the port, so Streamlit sees a same-origin websocket (with the upstream's name
    as Host, or without the port, Streamlit refuses it with 403)."""
    port = int(site.url.rsplit(":", 1)[1])
    cookie = next(iter(pinned_cookies(site).values()))
    status, _, kind = asyncio.run(open_session(site.url, cookie, host=f"explainer.test:{port}"))
    assert (status, kind) == (101, "script_finished")


def test_websocket_from_another_origin_is_refused(site):
    """The proxy keeps Streamlit's own origin check working rather than bypassing it."""
    assert asyncio.run(handshake(site.url, origin="http://evil.test")) == 403
    assert asyncio.run(handshake(site.url, origin=site.url)) == 101


def test_backends_run_with_the_required_options(site):
    for b in site.backends:
        args = b.proc.args
        assert args[1:3] == ["-m", "ui.serve"]
        for option in (
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={b.port}",
            "--server.enableXsrfProtection=true",
            "--browser.gatherUsageStats=false",
        ):
            assert option in args


def test_a_dead_process_is_skipped_then_everything_stops():
    """Kill one process: nginx sends every route to the other, the launcher sees the death,
    and stopping leaves no process of the cluster (nginx workers included)."""
    with start(processes=2) as c:
        pids = [pid for _, pid in c.processes()]
        assert len(pids) >= 4, "two backends, nginx's master and at least one worker"
        victim, survivor = c.backends
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        assert c.dead() is not None
        assert str(victim.proc.pid) in c.dead()[0]
        for _ in range(20):
            status, headers, _ = get(c.url + "/_stcore/health")
            assert (status, upstream(headers)) == (200, survivor.port)
        run_dir = c.run_dir
    assert not [pid for pid in pids if alive(pid)]
    assert not [pid for pid in pids if group(pid)], "a process group outlived the cluster"
    assert not run_dir.exists()


def test_context_manager_yields_a_url_and_stops():
    with cluster(processes=2) as url:
        assert url.startswith("http://127.0.0.1:")
        assert get(url + "/_stcore/health")[0] == 200
    with pytest.raises(urllib.error.URLError, match="refused"):
        get(url + "/_stcore/health")


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.10", "::", "example.com", ""])
def test_non_loopback_addresses_are_refused(address):
    with pytest.raises(ValueError, match="loopback"):
        loopback(address)
    with pytest.raises(SystemExit) as e:
        main(["--address", address])
    assert e.value.code == 2


@pytest.mark.parametrize(
    ("address", "ip"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")]
)
def test_loopback_addresses_are_accepted(address, ip):
    assert loopback(address) == ip


def test_rendered_config_is_valid_and_self_contained(tmp_path):
    """nginx -t accepts it, and every path in it lies in the run directory."""
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_config(tmp_path, "127.0.0.1", 8080, [9001, 9002]))
    text = conf.read_text()
    assert "{{" not in text
    assert "listen 127.0.0.1:8080;" in text
    assert "server 127.0.0.1:9001 max_fails=3 fail_timeout=10s;" in text
    assert "hash $route consistent;" in text
    lines = [line.split() for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not [w for w in lines if w and w[0] in {"ip_hash", "include", "user"}]
    files = {w[0]: w[1].rstrip(";") for w in lines if w and w[0] in FILE_DIRECTIVES}
    assert set(files) == FILE_DIRECTIVES
    assert all(path.startswith(f"{tmp_path}/") for path in files.values()), files
    err = str(tmp_path / "error.log")
    cmd = [NGINX, "-t", "-e", err, "-p", str(tmp_path), "-c", str(conf)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
