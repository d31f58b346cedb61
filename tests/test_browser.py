"""The real server in headless Chromium: every page opened by its URL on a cold server.

Each page must finish its script, draw every chart, show no exception box, and show the
site's own navigation (proof that the entry script ran, not Streamlit's automatic
``pages/`` mode). Screenshots go to ``screenshots/`` (ignored by git) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from ui.site import PAGES

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.browser


def _have_browser() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


if not _have_browser():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium and the playwright package")
    pytest.skip("needs /usr/bin/chromium and playwright", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(plain: bool = False) -> tuple[subprocess.Popen, str]:
    """The site as the README starts it (``python -m ui.serve``), or with ``plain`` as
    hosts such as Streamlit Community Cloud do (``streamlit run streamlit_app.py``)."""
    port = _free_port()
    launcher = ["streamlit", "run", "streamlit_app.py"] if plain else ["ui.serve"]
    cmd = [
        sys.executable,
        "-m",
        *launcher,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
    ]
    # a pipe nobody reads could fill up and block the server; the file lives as long as it
    log = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    log.seek(0)
    raise RuntimeError("streamlit did not start: " + log.read().decode()[-2000:])


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


def wait_until_drawn(page, timeout_ms: int = 120_000) -> None:
    """Script finished, nothing stale, every chart drawn (SVG marks or a canvas).

    Before the websocket connects the app also reports "notRunning", so the page must
    first show content, and the finished state must hold for half a second.
    """
    page.wait_for_selector(
        '[data-testid="stMain"] [data-testid="stElementContainer"]', timeout=timeout_ms
    )
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const done = app && app.getAttribute('data-test-script-state') === 'notRunning'
                && !document.querySelector('[data-stale="true"]')
                && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(
                    c => c.querySelector('.vega-embed svg.marks, .vega-embed canvas'));
            if (!done) { window.__doneSince = undefined; return false; }
            window.__doneSince = window.__doneSince || Date.now();
            return Date.now() - window.__doneSince > 500;
        }""",
        timeout=timeout_ms,
        polling=100,
    )


def screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"], section, body\')].map(e => e.scrollHeight))'
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 12_000)})
    wait_until_drawn(page)
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=path, full_page=True)


@contextmanager
def cold_page(browser, path: str, plain: bool = False):
    """A freshly started server, one page opened at ``path``, drawn and free of exceptions."""
    proc, url = _start_server(plain)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        wait_until_drawn(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        yield page
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_page_opens_cold_by_url(browser, info):
    """A fresh server per page: the first request after a cold start is the risky one."""
    with cold_page(browser, info.url_path) as page:
        # The entry script ran (page config and the site's navigation), not the old
        # automatic pages mode: its title is ours, and with several pages its sidebar
        # lists exactly our sections' pages.
        assert_site_navigation(page)
        assert "Page not found" not in page.inner_text("body")
        heading = page.locator("h1").first.inner_text()
        assert heading == (info.title if info.url_path else "Why are deep networks hard to train?")
        n_charts = page.locator('[data-testid="stVegaLiteChart"]').count()
        assert n_charts >= 1, "every page shows at least one chart"
        screenshot(page, SHOTS / f"{info.url_path or 'home'}.png")


def assert_site_navigation(page) -> None:
    """The entry script ran: the site's title and its sectioned navigation with every page."""
    assert page.title() == "Why are deep networks hard to train?"
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for p in PAGES:
        assert p.nav_title in nav, f"site navigation missing {p.nav_title!r}: {nav!r}"
    for section in {p.section for p in PAGES}:
        assert section in nav, f"navigation missing the section {section!r}"


@pytest.mark.parametrize("plain", [False, True], ids=["ui.serve", "streamlit-run"])
def test_file_name_url_runs_the_entry_script(browser, plain):
    """A file-name-style URL (the old automatic mode's form) on a cold server gets the entry
    script: the site's title and navigation, and the home page, never a bare page script
    with the wrong sidebar."""
    with cold_page(browser, "learning_slowdown", plain) as page:
        assert_site_navigation(page)
        assert page.locator("h1").first.inner_text() == "Why are deep networks hard to train?"


def test_deep_link_under_plain_streamlit_run(browser):
    """Started as a host starts it (no launcher), a cold deep link still shows its page with
    the site's navigation (the one notice Streamlit adds there is why ui.serve exists)."""
    with cold_page(browser, "vanishing-gradients", plain=True) as page:
        assert_site_navigation(page)
        assert page.locator("h1").first.inner_text() == "Vanishing and exploding gradients"


def test_bad_query_values_fall_back(browser):
    """Malformed and out-of-range URL values give the defaults, not a traceback."""
    with cold_page(browser, "vanishing-gradients?depth=9999&chain_seed=-5&w=abc") as page:
        # cold_page asserts that the page drew without an exception box; the sliders show
        # their defaults (depth 4, w 1.00)
        sliders = page.locator('[data-testid="stSlider"]').all_inner_texts()
        assert any("Depth" in t and "4" in t for t in sliders), sliders
        assert any("w (when all equal)" in t and "1.00" in t for t in sliders), sliders


OVERFLOW_JS = """() => {
    const bad = [];
    const container = el => el.closest('[data-testid="stElementContainer"]') || el.parentElement;
    for (const k of document.querySelectorAll('.katex-display')) {
        // a display formula too wide for its column gets a scroll bar: its end is hidden
        if (k.scrollWidth > k.clientWidth + 1)
            bad.push(`formula ${k.textContent.slice(0, 60)}: ${k.scrollWidth} > ${k.clientWidth}`);
    }
    for (const k of document.querySelectorAll('.katex')) {
        const width = k.getBoundingClientRect().width;
        const room = container(k).getBoundingClientRect().width;
        if (width > room + 1) bad.push(`formula ${k.textContent.slice(0, 60)}: ${width} > ${room}`);
    }
    for (const s of document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')) {
        if (s.scrollWidth > s.clientWidth + 1)
            bad.push(`table scrolls sideways: ${s.scrollWidth} > ${s.clientWidth}`);
    }
    for (const t of document.querySelectorAll('[data-testid="stTable"] table')) {
        const box = container(t);
        if (t.getBoundingClientRect().width > box.getBoundingClientRect().width + 1)
            bad.push('table wider than its column');
    }
    return bad;
}"""

PROJECTOR_URLS = [p.url_path for p in PAGES] + [
    "cross-entropy?y=1.0",
    "learning-slowdown?w0=-10&b0=-10",
    "learning-slowdown?w0=10&b0=10",
    "vanishing-gradients?depth=30&chain_w=fixed&w=100&chain_b=normal",
    "optimizers?surface=himmelblau&opt=SGD&opt=momentum&opt=Nesterov&opt=Adagrad&opt=RMSProp"
    "&opt=Adam&noise=3.0&steps=400&follow=1&kappa_t=200&m_layers=4",
    "batch-norm?n=32&groups=3&buys_tab=Mini-batch%20size",
    "learning-rate?r_surface=neuron&r_factor=3.0&s_warmup=2&s_epochs=10",
    "regularization?n=8000&epochs=50&remedy_tab=L1",
    "training-lab?lab_data=spiral&lab_n_train=500&lab_epochs=5&lab_activation=relu&lab_weight_init=he",
]


@pytest.fixture(scope="module")
def server_url():
    proc, url = _start_server()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("path", PROJECTOR_URLS, ids=lambda p: p or "home")
def test_nothing_overflows_at_a_projectors_1280_x_720(browser, server_url, path):
    """At 1280 x 720 every formula and table fits its column (or wraps): none is cut off."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{server_url}/{path}", wait_until="domcontentloaded")
        wait_until_drawn(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(_shot(f"{_slug(path)}-1280x720-first-screen.png")))
        assert page.evaluate(OVERFLOW_JS) == []
        full = page.evaluate(
            '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
            "section, body')].map(e => e.scrollHeight))"
        )
        page.set_viewport_size({"width": 1280, "height": min(int(full) + 40, 12_000)})
        wait_until_drawn(page)
        assert page.evaluate(OVERFLOW_JS) == []
        page.screenshot(path=str(_shot(f"{_slug(path)}-1280.png")), full_page=True)
    finally:
        page.close()


def _slug(path: str) -> str:
    return (path or "home").replace("?", "_").replace("&", "_").replace("=", "")


def _shot(name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS / name
