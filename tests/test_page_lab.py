"""AppTest interactions on the training lab: a preset, its diagnosis, and the one-click fix."""

from tests.pagetools import assert_charts_finite, charts, run_page, text

PAGE = "pages/training_better/lab.py"


def test_default_trains_and_says_healthy():
    at = run_page(PAGE, {"lab_epochs": "3"})
    assert "Diagnosis" in [h.value for h in at.subheader]
    assert "Cost" in charts(at) and "Speed of learning ‖∂C/∂bˡ‖" in charts(at)
    assert_charts_finite(at)


def test_chapter5_preset_diagnoses_vanishing_and_the_fix_applies():
    at = run_page(PAGE)
    at.button(key="lab_preset_chapter5").click().run()
    t = text(at)
    assert "vanish" in t.lower()
    fixes = [b for b in at.button if b.key and b.key.startswith("lab_fix_")]
    assert fixes
    fixes[0].click().run()
    assert not at.exception
    changed = {k: at.session_state[k] for k in at.session_state if str(k).startswith("lab_")}
    assert changed  # the fix wrote into the bound widgets; the next run trains the new network


def test_bad_group_count_is_a_message_not_an_error():
    at = run_page(PAGE, {"lab_norm": "group norm", "lab_groups": "4", "lab_width": "30"})
    assert any("group" in e.value.lower() for e in at.error)


def test_toy_set_draws_decision_regions():
    at = run_page(PAGE, {"lab_data": "moons", "lab_n_train": "200", "lab_epochs": "5"})
    titles = list(charts(at))
    assert any(t.startswith("What the network predicts, after epoch") for t in titles)
