"""AppTest interactions on the batch-normalization page."""

import numpy as np

from tests.pagetools import assert_charts_finite, charts, run_page, text

PAGE = "pages/training_better/batch_norm.py"


def test_default_page_shows_every_section():
    at = run_page(PAGE)
    t = text(at)
    assert "Over these 8 digits every unit's x̂ has mean 0" in t
    assert "With the running averages the network scores" in t
    assert "On this 4 × 6 matrix, batch norm computes 6 means" in t
    assert "With batch norm" in t and "of the 12 settings reach 80%" in t
    assert_charts_finite(at)


def test_batch_size_changes_the_transform():
    at = run_page(PAGE)
    at.select_slider(key="n").set_value(1).run()
    assert "With a single digit in the batch" in text(at)
    strip = charts(at)["Each unit's value before and after batch norm (γ = 2, β = 1)"]
    after = strip[strip["stage"] == "y = γx̂ + β, after"]["value"]
    assert np.allclose(after, 1.0)  # x̂ = 0, so y = β for the lone digit
    at.select_slider(key="n").set_value(2).run()
    assert "With two digits, every x̂ is about ±1" in text(at)


def test_gamma_and_beta_move_the_output():
    at = run_page(PAGE)
    at.slider(key="gamma").set_value(0.5).run()
    at.slider(key="beta").set_value(-2.0).run()
    strip = charts(at)["Each unit's 8 values before and after batch norm (γ = 0.5, β = -2)"]
    after = strip[strip["stage"] == "y = γx̂ + β, after"]
    for _, unit in after.groupby("unit"):
        assert abs(unit["value"].mean() + 2.0) < 1e-9
        assert abs(unit["value"].std(ddof=0) - 0.5) < 1e-3


def test_group_count_changes_the_sets():
    at = run_page(PAGE)
    at.radio(key="groups").set_value(3).run()
    assert "group norm with 3 groups computes 12" in text(at)


def test_batch_size_tab():
    at = run_page(PAGE, {"buys_tab": "Mini-batch size"})
    df = charts(at)["Validation accuracy after one pass over the same digits, by mini-batch size"]
    assert set(df["method"].dropna()) >= {"batch norm", "layer norm", "group norm"}
    assert "Wu and He" in text(at)


def test_ioffe_experiment_drifts_without_and_holds_with():
    at = run_page(PAGE)
    charts_ = charts(at)
    plain = charts_["Unit 1 of the last hidden layer, without batch norm"]
    bn = charts_["Unit 1 of the last hidden layer, with batch norm"]
    move = lambda df: df.groupby("percentile")["z"].agg(lambda z: z.max() - z.min()).max()  # noqa: E731
    assert move(plain) > 2 * move(bn)
    acc = charts_["Validation accuracy during training"]
    last = acc[acc["step"] == acc["step"].max()].set_index("network")["value"]
    assert last["with batch norm"] > last["without batch norm"]
    t = text(at)
    assert "runs **6,000 steps**" in t and "the paper ran 50,000" in t
    assert "With batch norm its percentiles stayed within" in t


def test_depth_tab():
    at = run_page(PAGE, {"buys_tab": "Depth"})
    acc = charts(at)["6 hidden layers: validation accuracy"]
    last = acc[acc["step"] == acc["step"].max()].set_index("network")["value"]
    assert last["with batch norm"] > 50 > 20 > last["without batch norm"]
    assert "With 6 hidden layers" in text(at)
