"""AppTest interactions on the two one-neuron pages: controls change what the charts show."""

import numpy as np

from explain.neuron import NeuronSetup, first_epoch_within, train_neuron
from tests.pagetools import assert_charts_finite, charts, run_page, text
from ui.format import nice, num

SLOWDOWN = "pages/one_neuron/learning_slowdown.py"
CROSS = "pages/one_neuron/cross_entropy.py"


def test_slowdown_defaults_to_the_badly_wrong_start_and_quotes_live_numbers():
    at = run_page(SLOWDOWN)
    cost = charts(at)["Cost against epoch"]
    assert set(cost["start"]) == {"starts close", "starts badly wrong"}
    run = train_neuron(NeuronSetup(w0=(0.6, 2.0), b0=(0.9, 2.0)))
    wrong = first_epoch_within(run.a[:, 1], 0.0, 0.5 * run.a[0, 1])
    a0 = nice(run.a[0, 1])
    assert f"starts badly wrong (a = {a0}, error {a0}): **{wrong} epochs**" in text(at)
    close = first_epoch_within(run.a[:, 0], 0.0, 0.5 * run.a[0, 0])
    assert f"takes **{nice(wrong / close)}×** as long to halve" in text(at)
    assert "for the neuron that starts badly wrong" in text(at)


def test_slowdown_epoch_slider_moves_the_marker_and_the_formula():
    at = run_page(SLOWDOWN)
    z0 = charts(at)["Where the neuron sits at epoch 0"]["z"].dropna()
    at.slider(key="epoch").set_value(250).run()
    after = charts(at)
    assert "Where the neuron sits at epoch 250" in after
    run = train_neuron(NeuronSetup(w0=(2.0,), b0=(2.0,)))
    marker = after["Where the neuron sits at epoch 250"]
    marked = marker[marker["label"].notna()]["z"]
    assert np.isclose(marked.iloc[0], run.z[250, 0])
    assert not np.isclose(marked.iloc[0], z0.iloc[-1])
    assert num(run.dC_dw[250, 0]) in text(at)


def test_slowdown_preset_button_and_custom_start():
    at = run_page(SLOWDOWN)
    at.button(key="preset_close").click().run()
    assert at.slider(key="w0").value == 0.6
    assert "for the neuron that starts close" in text(at)
    at.slider(key="w0").set_value(-4.0).run()
    assert "your start" in set(charts(at)["Output a against epoch"]["start"])
    assert "for your neuron" in text(at)


def test_slowdown_extreme_settings_from_the_url():
    at = run_page(
        SLOWDOWN, {"w0": "10", "b0": "10", "eta": "10.0", "epochs": "1000", "x": "3", "y": "1"}
    )
    assert_charts_finite(at)
    at = run_page(SLOWDOWN, {"w0": "-10", "b0": "-10", "x": "-3", "y": "0", "eta": "10.0"})
    assert (at.slider(key="w0").value, at.slider(key="x").value) == (-10.0, -3.0)
    assert at.select_slider(key="eta").value == 10.0
    assert_charts_finite(at)
    assert "nan" not in text(at).lower()


def test_cross_entropy_eta_mode_changes_the_curves():
    at = run_page(CROSS)
    same = charts(at)["Output a against epoch"]
    assert set(same["cost"]) == {"quadratic", "cross-entropy"}
    assert "η = 0.15 for the quadratic cost and 0.15 for cross-entropy" in text(at)
    assert not at.select_slider(key="eta").disabled
    at.radio(key="eta_mode").set_value("book").run()
    assert at.select_slider(key="eta").disabled
    book = charts(at)["Output a against epoch"]
    ce = lambda df: df[(df["cost"] == "cross-entropy") & (df["start"] == "starts badly wrong")]  # noqa: E731
    assert ce(same)["a"].iloc[-1] < ce(book)["a"].iloc[-1] - 0.3  # 30x the step: far faster
    assert "η = 0.15 for the quadratic cost and 0.005 for cross-entropy" in text(at)


def test_cross_entropy_pushes_the_bigger_mistake_harder():
    at = run_page(CROSS)
    body = text(at)
    assert "cross-entropy pushes the bigger error (“starts badly wrong”) **harder**" in body
    run = train_neuron(NeuronSetup(w0=(0.6, 2.0), b0=(0.9, 2.0)))
    ratio = abs(run.dC_db[0, 0] / run.dC_db[0, 1])
    assert f"**{nice(ratio)}× less**" in body
    # the sentence quotes the table's quantity, |dC/db| at epoch 0, not eta |dC/db|
    row = f"| starts badly wrong | {nice(run.a[0, 1])} | {nice(abs(run.dC_db[0, 1]))} |"
    assert row in body and f"{nice(abs(run.dC_db[0, 1]))} against" in body


def test_cross_entropy_derivation_follows_the_epoch_slider():
    at = run_page(CROSS, {"w0": "3", "b0": "1"})
    run = train_neuron(NeuronSetup(w0=(3.0,), b0=(1.0,), cost="cross_entropy", eta=0.15))
    assert f"a = {nice(run.a[0, 0])}" in text(at)
    at.slider(key="epoch").set_value(40).run()
    assert "at epoch 40 for your neuron" in text(at)
    assert f"a = {nice(run.a[40, 0])}" in text(at)
    profile = charts(at)["How hard each cost pushes, against the error (y = 0)"]
    dots = profile[profile["label"].notna()]
    assert np.allclose(dots["error"], run.a[40, 0])


def test_cross_entropy_survives_x_zero_and_saturation():
    for query in ({"x": "0"}, {"w0": "10", "b0": "10", "x": "3"}, {"y": "1", "x": "-3"}):
        at = run_page(CROSS, query)
        assert_charts_finite(at)
        assert "nan" not in text(at).lower()


def test_cross_entropy_mnist_comparison_reacts_to_its_controls():
    at = run_page(CROSS, {"m_epochs": "3", "m_n": "500"})
    acc = charts(at)["Validation accuracy on 1,000 held-out digits"]
    assert set(acc["output layer and cost"]) == {
        "quadratic",
        "cross-entropy",
        "softmax + log-likelihood",
    }
    assert acc["epoch"].max() == 3
    assert "larger η (2 against 0.5 for the others)" in text(at)
    at.selectbox(key="m_init").set_value("scaled").run()
    acc2 = charts(at)["Validation accuracy on 1,000 held-out digits"]
    assert not np.allclose(acc["value"], acc2["value"])
    assert_charts_finite(at)


def test_captions_follow_the_measured_gradient_peaks():
    from explain.neuron import arrival

    at = run_page(SLOWDOWN)
    peak = arrival(train_neuron(NeuronSetup(w0=(2.0,), b0=(2.0,), epochs=2000))).peak_epoch
    assert f"Until epoch {peak} σ′(z) keeps it small" in text(at)
    at.button(key="preset_close").click().run()
    close = train_neuron(NeuronSetup(w0=(0.6,), b0=(0.9,), epochs=2000))
    g = np.abs(close.dC_db[:, 0])
    assert g.max() < 2 * g[0]  # the close start has no plateau: its gradient barely grows
    assert "Until epoch" not in text(at)
    assert f"it peaks at epoch {int(np.argmax(g))}, only {nice(g.max() / g[0])}×" in text(at)
    ce = run_page(CROSS, {"m_epochs": "2", "m_n": "500"})
    assert "cross-entropy's gradient is largest at epoch 0" in text(ce)


def test_epoch_sliders_end_at_the_run_s_last_epoch():
    for page in (SLOWDOWN, CROSS):
        at = run_page(page, {"epochs": "100", "m_epochs": "2", "m_n": "500"})
        assert at.slider(key="epoch").max == 100
        at.slider(key="epoch").set_value(90).run()
        at.slider(key="epochs").set_value(50).run()
        assert not at.exception
        assert at.slider(key="epoch").max == 50 and at.slider(key="epoch").value <= 50


def test_formulas_write_powers_of_ten_not_e_notation():
    at = run_page(SLOWDOWN, {"w0": "-10", "b0": "-10"})
    formulas = "\n".join(str(f.value) for f in at.latex)
    assert "e-" not in formulas.replace("\\begin", "").replace("\\end", "")
    assert "\\times 10^{-9}" in formulas
    assert "×" not in text(at).split("$$")[0] or "e-0" not in text(at)
