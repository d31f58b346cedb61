"""Home page: the sigma' teaser follows its slider, and its numbers are computed live."""

import numpy as np

from explain.nn.activations import sigmoid_prime
from tests.pagetools import charts, run_page, text

TEASER = "The sigmoid and its derivative"


def marked_points(at):
    df = charts(at)[TEASER]
    return df[df["label"].notna() & df["curve"].notna()].reset_index(drop=True)


def test_teaser_marks_max_and_moves_with_slider():
    at = run_page("pages/start/home.py")
    before = marked_points(at)
    assert np.isclose(before["z"].iloc[0], 2.0)
    at.slider(key="z").set_value(-6.0).run()
    after = marked_points(at)
    assert np.isclose(after["z"].iloc[0], -6.0)
    sp = float(after.loc[after["curve"] == "σ′(z)", "value"].iloc[0])
    assert np.isclose(sp, sigmoid_prime(-6.0))
    assert "max σ′ = 1/4" in str(charts(at)[TEASER].get("label", "").tolist())


def test_prose_quotes_the_live_factor():
    at = run_page("pages/start/home.py", {"z": "-6"})
    factor = 0.25 / float(sigmoid_prime(-6.0))
    assert f"{factor:,.3g}×" in text(at)


def test_problem_map_links_only_existing_pages():
    from ui.site import PAGES

    body = text(run_page("pages/start/home.py"))
    for p in PAGES[1:]:
        assert f"]({'/' + p.url_path})" in body
