"""A minimal client of Streamlit's own websocket protocol, to time page runs under load.

Goal: open one page of a running Streamlit 1.67 server the way the browser's frontend does,
and time the script run from the ``rerun_script`` request to its final ``script_finished``.
Non-goals: rendering, widget or fragment interaction, reconnecting, heartbeats, and the static
files (index.html, JavaScript) a browser also fetches. Loopback servers only.

The protocol, as the 1.67 frontend (``WebsocketConnection``) and the Starlette server speak it:

1. ``GET /_stcore/health``: the frontend's ping. With ``server.enableXsrfProtection`` on (the
   default) the answer sets the ``_streamlit_xsrf`` cookie.
2. A websocket to ``/_stcore/stream`` offering the subprotocols ``streamlit, <token>``: the
   token is the cookie's value, or ``PLACEHOLDER_AUTH_TOKEN`` when there is none. The cookie
   and a same-origin ``Origin`` go along. The server accepts either way: the token only
   decides whether it reads the login cookie (st.user), so a bad one is not a failure.
3. The server sends nothing until asked, so the client sends ``BackMsg.rerun_script`` at once,
   without waiting for ``new_session`` (as the frontend does on CONNECTED). Its ClientState
   holds ``query_string`` (no "?"), ``page_name`` (the url_path, "" for home),
   ``page_script_hash`` "" and the browser's ``context_info``.
4. Then come ``new_session``, ``session_status_changed``, deltas and ``script_finished``.
   ``FINISHED_EARLY_FOR_RERUN`` (st.rerun, or a rerun request) means another run follows, so
   reading goes on; ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY`` ends only a fragment.
5. ``ref_hash`` messages stand for cacheable messages the client already holds; the server
   sends them only for hashes listed in ``cached_message_hashes``. Version 1.67 has no HTTP
   cache check to answer: a reference the client cannot resolve is an error.
"""

from __future__ import annotations

import asyncio
import math
import time
import urllib.request
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
XSRF_COOKIE = "_streamlit_xsrf"
NO_TOKEN = "PLACEHOLDER_AUTH_TOKEN"
# Charts carry their data inline; a page's largest message is a few hundred kB.
MAX_MESSAGE_BYTES = 256 * 2**20
FINAL_STATUSES = frozenset(
    {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
)


class RunResult(NamedTuple):
    """One page run as one visitor saw it.

    seconds: rerun_script sent -> final script_finished; nan if it never finished.
    error: None for a clean run, else what went wrong (an exception element, a timeout, ...).
    messages, nbytes: ForwardMsgs received during the run and their total size.
    """

    seconds: float
    error: str | None
    messages: int = 0
    nbytes: int = 0


def loopback_origin(url: str) -> str:
    """``http://host:port`` of ``url``; raises ValueError unless it is http on loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"refusing {url!r}: only http://127.0.0.1, localhost or [::1]")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"http://{host}:{parts.port or 80}"


def fetch_xsrf_cookie(origin: str, timeout: float) -> str | None:
    """The ``_streamlit_xsrf`` cookie set by ``GET /_stcore/health``, or None if XSRF is off."""
    with urllib.request.urlopen(f"{origin}/_stcore/health", timeout=timeout) as response:
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            if name.strip() == XSRF_COOKIE:
                return rest.split(";", 1)[0]
    return None


def rerun_backmsg(origin: str, page: str, query: str, cached_hashes: Iterable[str] = ()) -> BackMsg:
    """The ``rerun_script`` request a browser sends on arriving at ``/<page>?<query>``."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query.removeprefix("?")
    state.page_name = page
    state.page_script_hash = ""
    state.cached_message_hashes.extend(cached_hashes)
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
    info.url = f"{origin}/{page}" + (f"?{state.query_string}" if state.query_string else "")
    info.is_embedded, info.color_scheme = False, "light"
    return msg


def message_error(msg: ForwardMsg) -> str | None:
    """What a (resolved) ForwardMsg says went wrong with the run, if anything."""
    kind = msg.WhichOneof("type")
    if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
        return f"exception: {msg.delta.new_element.exception.type}"
    if kind == "page_not_found":
        return "page not found"
    if kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
        return "compile error"
    return None


def resolve(msg: ForwardMsg, cache: dict[str, ForwardMsg]) -> ForwardMsg | None:
    """``msg`` with a ref_hash replaced by the cached message; None if not cached.

    Cacheable messages are remembered in ``cache`` (hash -> message) as they arrive.
    """
    if msg.WhichOneof("type") == "ref_hash":
        return cache.get(msg.ref_hash)
    if msg.metadata.cacheable:
        cache[msg.hash] = msg
    return msg


async def read_run(
    ws: ClientConnection, cache: dict[str, ForwardMsg]
) -> tuple[str | None, int, int]:
    """Read ForwardMsgs until the run chain ends; (first error, messages, bytes)."""
    error, count, nbytes = None, 0, 0
    while True:
        data = await ws.recv(decode=False)
        count, nbytes = count + 1, nbytes + len(data)
        msg = ForwardMsg.FromString(data)
        resolved = resolve(msg, cache)
        problem = message_error(resolved) if resolved else f"unresolved ref_hash {msg.ref_hash}"
        error = error or problem
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in FINAL_STATUSES:
            return error, count, nbytes


async def connect_session(origin: str, timeout: float) -> ClientConnection:
    """Ping the server, then open a session's websocket with the frontend's handshake."""
    cookie = await asyncio.to_thread(fetch_xsrf_cookie, origin, timeout)
    headers = {"Cookie": f"{XSRF_COOKIE}={cookie}"} if cookie else {}
    return await connect(
        origin.replace("http://", "ws://", 1) + "/_stcore/stream",
        subprotocols=["streamlit", cookie or NO_TOKEN],
        origin=origin,
        additional_headers=headers,
        max_size=MAX_MESSAGE_BYTES,
        # A server busy running scripts answers pings late; browsers never ping.
        ping_interval=None,
        open_timeout=timeout,
    )


async def open_page(
    url: str, page: str = "", query: str = "", *, timeout: float = 60.0
) -> RunResult:
    """Open ``/<page>?<query>`` as a new visitor and time its script run.

    url: the server, e.g. "http://127.0.0.1:8501"; page: a url_path, "" for home;
    timeout: seconds for the whole visit (connecting included).
    """
    origin = loopback_origin(url)
    try:
        async with asyncio.timeout(timeout):
            async with await connect_session(origin, timeout) as ws:
                start = time.perf_counter()
                await ws.send(rerun_backmsg(origin, page, query).SerializeToString())
                error, count, nbytes = await read_run(ws, cache={})
                return RunResult(time.perf_counter() - start, error, count, nbytes)
    except TimeoutError:
        return RunResult(math.nan, f"timeout after {timeout:g} s")
    except (OSError, WebSocketException, DecodeError) as exc:
        return RunResult(math.nan, f"connection: {type(exc).__name__}: {exc}")
