"""Home page: the sigma' teaser follows its slider, and its numbers are computed live."""

import numpy as np

from explain.nn.activations import sigmoid, sigmoid_prime
from tests.pagetools import charts, run_page, text
from ui.format import nice, num

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
    sp = float(sigmoid_prime(-6.0))
    assert f"multiplied by **{nice(sp)}**: **{nice(0.25 / sp)}×** smaller" in text(at)
    # the formula ends on its value, on a line of its own, in powers of ten
    formula = at.latex[0].value
    assert f"&= {num(sp)}" in [line.strip() for line in formula.splitlines()]
    at = run_page("pages/start/home.py", {"z": "-10"})
    assert r"\times 10^{-5}" in at.latex[0].value and "e-05" not in text(at)


def test_at_z_0_the_factor_is_said_to_be_at_its_maximum():
    body = text(run_page("pages/start/home.py", {"z": "0"}))
    assert "multiplied by **0.25**: σ′ is at its maximum of 1/4" in body
    assert "× smaller" not in body


def test_problem_map_links_only_existing_pages():
    from ui.site import PAGES

    body = text(run_page("pages/start/home.py"))
    for p in PAGES[1:]:
        assert f"]({'/' + p.url_path})" in body


def test_marker_labels_are_plain_numbers_that_never_overlap():
    at = run_page("pages/start/home.py", {"z": "2"})
    points = marked_points(at).set_index("curve")
    assert points.loc["σ′(z)", "label"] == nice(float(sigmoid_prime(2.0)))
    assert points.loc["σ(z)", "label"] == nice(float(sigmoid(2.0)))
    assert set(points["side"]) == {"left"}  # z = 2 is right of centre: labels face inwards
    # at z = -10 sigma and sigma' nearly meet: one label names both, facing inwards
    at = run_page("pages/start/home.py", {"z": "-10"})
    points = marked_points(at).set_index("curve")
    both = f"σ = {nice(float(sigmoid(-10.0)))}, σ′ = {nice(float(sigmoid_prime(-10.0)))}"
    assert points.loc["σ(z)", "label"] == both and points.loc["σ′(z)", "label"] == ""
    assert "e-" not in both and set(points["side"]) == {"right"}
