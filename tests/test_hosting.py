"""Hosted settings, the launcher and the warm-up command."""

import tomllib

from tests.conftest import ROOT
from ui.serve import ENTRY, streamlit_argv
from ui.site import PAGES
from ui.warmup import LAZY_TABS, visits


def config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_hosted_settings():
    c = config()
    assert c["client"]["showErrorDetails"] == "none", "visitors never see a traceback"
    assert c["server"]["enableXsrfProtection"] is True
    assert c["server"]["enableCORS"] is True
    assert c["browser"]["gatherUsageStats"] is False
    assert c["runner"]["postScriptGC"] is False  # a full GC per run costs a quarter of it


def test_launcher_runs_the_entry_script_and_dev_shows_tracebacks():
    assert streamlit_argv(["--server.port=9"]) == ["streamlit", "run", ENTRY, "--server.port=9"]
    dev = streamlit_argv(["--dev", "--server.port=9"])
    assert "--dev" not in dev and dev[-1] == "--client.showErrorDetails=full"
    assert ENTRY.endswith("streamlit_app.py")


def test_warmup_visits_every_page_and_every_lazy_tab():
    seen = {(name, tuple(q.items())) for name, _, q in visits()}
    for p in PAGES:
        assert (p.url_path or "home", ()) in seen
    for url, queries in LAZY_TABS.items():
        assert any(p.url_path == url for p in PAGES), url
        for q in queries:
            assert (url, tuple(q.items())) in seen


def test_lazy_tabs_name_tabs_that_exist():
    for url, queries in LAZY_TABS.items():
        source = (ROOT / next(p.path for p in PAGES if p.url_path == url)).read_text()
        for q in queries:
            for value in q.values():
                assert f'"{value}"' in source, f"{url} has no tab {value!r}"
