"""Serve the site from several Streamlit processes behind nginx on one machine, with one command.

    python deploy/cluster.py --processes 2 --port 8080    # foreground; Ctrl-C stops everything
    python deploy/cluster.py --processes 2 --check        # start, verify, print RSS, stop

From Python (tests, the load benchmark)::

    from deploy.cluster import cluster, start
    with cluster(processes=2) as url:           # url = "http://127.0.0.1:<free port>"
        ...
    with start(processes=2) as c:               # the Cluster: c.url, c.backends, c.processes()
        ...

Goal: one Streamlit process runs every session's script on one interpreter, so a lecture
hall of students retraining networks at once queues behind one GIL. N processes behind a
proxy share the load; the proxy gives each browser one process for its whole visit.

Design
- Backends: ``python -m ui.serve --server.headless=true --server.address=127.0.0.1
  --server.port=<free port> --server.enableXsrfProtection=true
  --browser.gatherUsageStats=false``, cwd the repository root, each in its own session
  (so a Ctrl-C in the terminal reaches only this launcher, which then stops them in order)
  and, on Linux, killed by the kernel (PR_SET_PDEATHSIG) if the launcher itself dies.
  Each writes its log to ``<run dir>/backend-<port>.log``.
- nginx: ``deploy/nginx.conf.template`` rendered into a run directory (a fresh temporary
  one unless ``--run-dir`` is given) that is also nginx's prefix and holds its pid file,
  error and access logs and temp paths; started as ``nginx -e <err> -p <dir> -c <conf>
  -g 'daemon off;'``, so nothing under /etc, /var or /run is read or written.
- Stickiness: a session's state (widgets, caches keyed per session, uploaded files, media)
  lives in the one process that holds its websocket, and Streamlit's reconnect resumes a
  session only on that process. nginx OSS has no sticky-cookie module, so nginx makes its
  own cookie: a request without ``strouting`` gets a route equal to its ``$request_id``
  (128 random bits) and ``Set-Cookie: strouting=<route>``; a request with the cookie uses
  its value. The upstream is ``hash $route consistent``, so the first page and every later
  request of that browser (websocket, uploads, media) reach the same process, while
  different browsers, even many behind one NAT address, are spread uniformly (ip_hash
  would send a whole lecture hall behind one NAT to one process). Consistent hashing moves
  only about 1/N of the routes when a process is marked down. The cookie is a session
  cookie (HttpOnly, SameSite=Lax): a new browser session may land elsewhere, which is
  harmless because a Streamlit session does not outlive its tab anyway.
- Health: the launcher waits for every process's ``/_stcore/health`` before starting nginx,
  then for ``/_stcore/health`` through nginx. nginx checks passively (``max_fails=3
  fail_timeout=10s``): a process that refuses connections is skipped for new routes. The
  response header ``X-Upstream`` names the process that answered.
- Shutdown: on SIGINT or SIGTERM the launcher stops nginx (fast shutdown), then the
  Streamlit processes (SIGTERM, SIGKILL after a timeout), and exits 0. If any child exits
  on its own, it prints that child's log tail, stops the rest and exits 1.
- Only loopback addresses are accepted: a public deployment needs TLS and is out of scope.

Streamlit behind the proxy (1.67, Starlette/uvicorn server)
- The websocket is refused (403) unless its Origin equals the Host header Streamlit sees,
  or names localhost/127.0.0.1 or a ``server.corsAllowedOrigins`` entry: nginx must pass
  ``Host $http_host`` (``$host`` drops the port; nginx's default sends the upstream's name).
  ``server.enableCORS`` stays on; turning it off would accept websockets from any origin.
- XSRF: the ``_streamlit_xsrf`` cookie comes with ``/_stcore/health`` and is not signed with
  a per-process secret, so it would even survive a change of process; the websocket needs
  no XSRF token (only auth cookies and uploads do).
- No base URL path: the site is served at ``/``; a prefix would need
  ``--server.baseUrlPath`` on every process and matching ``location`` blocks.
- Upstream keepalive is off: uvicorn (h11) answers requests on a reused connection ~40 ms late.

Non-goals: several machines, TLS, active health checks and restarting dead processes
(nginx Plus or a process supervisor does these), shared session state between processes.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else (shutil.which("nginx") or "")
BACKEND_HOST = "127.0.0.1"
STREAMLIT_OPTIONS = (
    "--server.headless=true",
    "--server.enableXsrfProtection=true",
    "--browser.gatherUsageStats=false",
)


class Backend(NamedTuple):
    """One Streamlit process: its port on 127.0.0.1, the process and its log file."""

    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{BACKEND_HOST}:{self.port}"


@dataclass
class Cluster:
    """A running cluster: nginx at ``url`` in front of ``backends``; a context manager."""

    url: str
    backends: list[Backend]
    nginx: subprocess.Popen
    run_dir: Path
    startup_s: float
    remove_run_dir: bool = True
    _stopped: bool = field(default=False, repr=False)

    def children(self) -> list[tuple[str, subprocess.Popen, Path]]:
        """The launcher's direct children: (name for messages, process, log file)."""
        named = [(f"backend {b.url} (pid {b.proc.pid})", b.proc, b.log) for b in self.backends]
        nginx_log = self.run_dir / "error.log"
        return [*named, (f"nginx (pid {self.nginx.pid})", self.nginx, nginx_log)]

    def processes(self) -> list[tuple[str, int]]:
        """(role, pid) of every process of the cluster, nginx workers included."""
        out = [(f"backend :{b.port}", b.proc.pid) for b in self.backends]
        out += [(f"backend :{b.port} child", p) for b in self.backends for p in descendants(b)]
        out.append(("nginx master", self.nginx.pid))
        out += [("nginx worker", p) for p in descendants(self.nginx)]
        return out

    def dead(self) -> tuple[str, str] | None:
        """(name, log tail) of a child that has exited, or None while all run."""
        for name, p, log in self.children():
            if p.poll() is not None:
                return f"{name}, exit code {p.returncode}", tail(log)
        return None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop nginx first (no new requests reach a stopping process), then the backends."""
        if self._stopped:
            return
        self._stopped = True
        _terminate([self.nginx], timeout)
        _terminate([b.proc for b in self.backends], timeout)
        if self.remove_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def loopback(address: str) -> str:
    """``address`` as an IP literal if it is a loopback address; ValueError otherwise."""
    ip = "127.0.0.1" if address == "localhost" else address
    try:
        ok = ipaddress.ip_address(ip).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"refusing to bind to {address!r}: only loopback addresses are allowed")
    return ip


def free_port(address: str = BACKEND_HOST, port: int = 0) -> int:
    """A TCP port that was free on ``address`` a moment ago: ``port``, or any if it is 0.

    Raises OSError (address in use) when ``port`` is taken.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds
        s.bind((address, port))
        return s.getsockname()[1]


def render_config(run_dir: Path, address: str, port: int, backend_ports: list[int]) -> str:
    """The nginx configuration: the template with the run directory, listen and servers."""
    host = f"[{address}]" if ":" in address else address
    servers = "\n".join(
        f"        server {BACKEND_HOST}:{p} max_fails=3 fail_timeout=10s;" for p in backend_ports
    )
    values = {"run_dir": str(run_dir), "listen": f"{host}:{port}", "servers": servers}
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], TEMPLATE.read_text())


def _die_with_parent(parent: int) -> None:
    """In the child before exec: its own session, and SIGTERM when the launcher dies.

    Linux sends the signal when the launcher's thread that started the child exits, so
    start a cluster from a thread that outlives it (the main thread, usually).
    """
    os.setsid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os._exit(1)


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # preexec_fn is unsafe only in a process that already runs threads
            preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        )


def start_backend(run_dir: Path, taken: Collection[int] = ()) -> Backend:
    """One ``python -m ui.serve`` on a free port of 127.0.0.1 not in ``taken``, logging
    into ``run_dir``."""
    port = free_port()
    while port in taken:
        port = free_port()
    log = run_dir / f"backend-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "ui.serve",
        f"--server.address={BACKEND_HOST}",
        f"--server.port={port}",
        *STREAMLIT_OPTIONS,
    ]
    return Backend(port, _spawn(cmd, log), log)


def healthy(url: str) -> bool:
    """Whether ``url``/_stcore/health answers 200."""
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_healthy(waiting: list[tuple[str, subprocess.Popen, Path]], timeout: float) -> None:
    """Wait until every (url, process, log) answers its health check; raise if one exits."""
    deadline = time.monotonic() + timeout
    pending = list(waiting)
    while pending:
        for url, proc, log in list(pending):
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: exited with {proc.returncode}\n{tail(log)}")
            if healthy(url):
                pending.remove((url, proc, log))
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"not healthy after {timeout:.0f} s: {[u for u, _, _ in pending]}")
        if pending:
            time.sleep(0.2)


def write_config(run_dir: Path, address: str, port: int, backend_ports: list[int]) -> Path:
    """Write nginx's configuration and temp directory into ``run_dir``; return the conf."""
    (run_dir / "tmp").mkdir(exist_ok=True)
    conf = run_dir / "nginx.conf"
    conf.write_text(render_config(run_dir, address, port, backend_ports))
    return conf


def start(
    processes: int = 2,
    port: int = 0,
    address: str = "127.0.0.1",
    run_dir: Path | str | None = None,
    timeout: float = 90.0,
) -> Cluster:
    """Start ``processes`` backends and nginx on ``address:port`` (0: a free port).

    Returns once nginx answers ``/_stcore/health``; on any failure stops what it started.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if not NGINX:
        raise FileNotFoundError("nginx not found (Debian: apt-get install nginx-light)")
    address = loopback(address)
    t0 = time.monotonic()
    temporary = run_dir is None
    port = free_port(address, port)  # fail before starting anything if it is taken
    run = Path(tempfile.mkdtemp(prefix="stcluster-") if temporary else run_dir).resolve()
    run.mkdir(parents=True, exist_ok=True)
    run.chmod(0o755)  # nginx workers run as an unprivileged user when the master is root
    host = f"[{address}]" if ":" in address else address
    backends: list[Backend] = []
    nginx = None
    try:
        for _ in range(processes):  # one by one, so that a failure stops the ones started
            backends.append(start_backend(run, {port, *(b.port for b in backends)}))
        wait_healthy([(b.url, b.proc, b.log) for b in backends], timeout)
        conf = write_config(run, address, port, [b.port for b in backends])
        cmd = [NGINX, "-e", str(run / "error.log"), "-p", str(run), "-c", str(conf)]
        nginx = _spawn([*cmd, "-g", "daemon off;"], run / "nginx.out")
        url = f"http://{host}:{port}"
        wait_healthy([(url, nginx, run / "error.log")], timeout)
    except BaseException:
        for proc in [p for p in [nginx, *(b.proc for b in backends)] if p is not None]:
            _terminate([proc], 5.0)
        if temporary:
            shutil.rmtree(run, ignore_errors=True)
        raise
    return Cluster(url, backends, nginx, run, time.monotonic() - t0, remove_run_dir=temporary)


@contextlib.contextmanager
def cluster(processes: int = 2, port: int = 0, address: str = "127.0.0.1") -> Iterator[str]:
    """``with cluster(processes=2) as url:`` the site behind nginx, stopped on exit."""
    with start(processes, port, address) as c:
        yield c.url


def _signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to the live members of process group ``pgid``, if it has any."""
    if group(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)


def _terminate(procs: list[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each child's process group, wait up to ``timeout`` in all, then SIGKILL.

    Each child leads its own group (it called setsid), so the group also reaches what it
    started: nginx's workers, which would outlive a master that was killed.
    """
    for p in procs:
        _signal_group(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        _signal_group(p.pid, signal.SIGKILL)  # members that outlived their leader


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, ...), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def group(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes in process group ``pgid`` (Linux /proc)."""
    return [pid for pid, fields in _table().items() if int(fields[2]) == pgid]


def _table() -> dict[int, list[str]]:
    """/proc/<pid>/stat fields of every live process, by pid."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] != "Z":
            table[int(entry.name)] = fields
    return table


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(parent: int | subprocess.Popen | Backend) -> list[int]:
    """Pids of all live descendants of ``parent`` (Linux /proc)."""
    if isinstance(parent, Backend):
        parent = parent.proc
    root = parent.pid if isinstance(parent, subprocess.Popen) else parent
    ppid = {pid: int(fields[1]) for pid, fields in _table().items()}
    found, frontier = [], [root]
    while frontier:
        kids = [pid for pid, pp in ppid.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (0 if it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' if it is missing)."""
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def report(c: Cluster) -> str:
    """The URL, the backends and every process's RSS, for a terminal."""
    rows = [f"site      {c.url}   (started in {c.startup_s:.1f} s)"]
    rows += [f"backend   {b.url}   pid {b.proc.pid}   log {b.log}" for b in c.backends]
    rows.append(f"nginx     pid {c.nginx.pid}   run dir {c.run_dir}")
    rows += [f"rss  {rss_mib(pid):7.1f} MiB  {role} (pid {pid})" for role, pid in c.processes()]
    return "\n".join(rows)


def check(c: Cluster) -> bool:
    """Every backend and the site through nginx answer their health check."""
    return all(healthy(u) for u in [c.url, *(b.url for b in c.backends)])


class _Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler to leave the foreground loop."""


def _on_signal(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Command line: start, print, stay in the foreground until a signal or a child's death."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2, help="Streamlit processes (2)")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (8080; 0: any)")
    parser.add_argument("--address", default="127.0.0.1", help="nginx address (loopback)")
    parser.add_argument("--run-dir", help="keep config and logs here (default: a temp dir)")
    parser.add_argument("--check", action="store_true", help="start, check, report, stop")
    args = parser.parse_args(argv)
    try:
        loopback(args.address)
    except ValueError as e:
        parser.error(str(e))
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    c = None
    try:
        c = start(args.processes, args.port, args.address, args.run_dir)
        print(report(c), flush=True)
        if args.check:
            return 0 if check(c) else 1
        print("Ctrl-C stops nginx and every process.", flush=True)
        while (dead := c.dead()) is None:
            time.sleep(0.5)
        print(f"{dead[0]}: exited unexpectedly; stopping\n{dead[1]}", file=sys.stderr)
        return 1
    except _Stop as e:
        print(f"{e}: stopping", file=sys.stderr)
        return 0
    except (OSError, RuntimeError) as e:  # TimeoutError and FileNotFoundError are OSErrors
        print(f"cluster did not start: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if c is not None:
            c.stop()


if __name__ == "__main__":
    sys.exit(main())
