"""Every page under AppTest: it runs, shows charts, and survives bad URL values."""

import pytest

from tests.pagetools import assert_charts_finite, charts, run_page
from ui.site import PAGES

IDS = [p.url_path or "home" for p in PAGES]


@pytest.mark.parametrize("info", PAGES, ids=IDS)
def test_page_runs_and_draws(info):
    at = run_page(info.path)
    assert charts(at), f"{info.title} shows no chart"
    assert at.title, f"{info.title} has no title"
    assert_charts_finite(at)


@pytest.mark.parametrize("info", PAGES, ids=IDS)
def test_page_survives_garbage_in_the_url(info):
    clean = run_page(info.path)
    defaults = {w.key: w.value for w in clean.slider if w.key}
    garbage = dict.fromkeys(defaults, "not-a-number")
    garbage.update({"seed": "-3", "depth": "1e9", "eta": "nan"})
    at = run_page(info.path, garbage)  # run_page asserts that no exception is shown
    assert {w.key: w.value for w in at.slider if w.key} == defaults
