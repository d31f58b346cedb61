"""The learning rate and its schedule: too small, right, too large; then decay."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import hline, labelled_points, layered, line_chart, region_axis, shaded_spans, vline
from explain.activation_verdicts import accuracy_noise
from explain.learning_rate import (
    RangeSetup,
    ScanSetup,
    flat_sentence,
    range_sentence,
    regime_sentence,
    scan_result,
    scan_sentence,
)
from explain.nn.datasets import SPLIT_SIZES
from explain.nn.schedules import SCHEDULES, ScheduleSpec
from explain.schedule_lesson import (
    BATCH_CHOICES,
    EPOCH_CHOICES,
    N_TRAIN_CHOICES,
    SCHEDULE_LABELS,
    WARMUP_CHOICES,
    BatchPair,
    ScheduleRace,
    batch_sentence,
    decay_sentence,
    schedule_curves,
    schedule_sentence,
    schedule_table,
    worse_than_untrained,
)
from explain.schedule_lesson import ETA_CHOICES as SCHEDULE_ETAS
from ui import widgets
from ui.cache import batch_pair_runs, lr_regime, mnist_runs, range_test, schedule_runs
from ui.display import show_chart
from ui.format import nice, num

N_EVAL = SPLIT_SIZES["validation"]

st.title("The learning rate and its schedule")
lead, seed_column = st.columns([3, 1], gap="large")
with seed_column:
    seed = widgets.seed()
with lead:
    st.markdown(
        "Too large a learning rate overshoots the point where the cost falls; too small a "
        "rate converges slowly. So in most cases the rate is decayed: large at first, "
        "smaller later. This page measures all three sentences: on a surface and a single "
        "neuron you can picture, on real digits, and under six schedules."
    )

# --- 1. too small, right, too large ------------------------------------------------------------
st.header("1. Too small, right, too large")
st.markdown(
    "Near a minimum every cost is a bowl, steep in some directions and shallow in others. "
    "Gradient descent multiplies the distance along the steepest direction, of curvature "
    "λ_max, by (1 − η λ_max) every step: below 1/λ_max it shrinks without changing sign, "
    "between 1/λ_max and 2/λ_max it changes sign every step (the path crosses the valley "
    "floor and comes back), and above 2/λ_max it grows: the path diverges."
)
st.latex(r"s_{k+1} = (1 - \eta\,\lambda_{max})\, s_k\,")
FACTORS = (0.1, 0.3, 0.5, 0.9, 1.0, 1.1, 1.5, 1.9, 2.0, 2.1, 3.0)
SURFACES = {"quadratic": "the narrow valley (quadratic)", "neuron": "one sigmoid neuron"}


def regime_frame(r) -> pd.DataFrame:
    k = np.arange(len(r.steep))
    return pd.concat(
        [
            pd.DataFrame({"step": k, "value": r.steep, "component": "across the valley (steep)"}),
            pd.DataFrame({"step": k, "value": r.flat, "component": "along the valley (flat)"}),
        ],
        ignore_index=True,
    )


@st.fragment
def regimes_section() -> None:
    c1, c2, c3 = st.columns([2, 1, 2])
    with c1:
        surface = widgets.radio("On", "r_surface", tuple(SURFACES), "quadratic", SURFACES)
    with c2:
        kappa = widgets.stepped(
            "Condition number κ", "r_kappa", (2, 5, 10, 20, 50), 10,
            disabled=surface != "quadratic",
        )  # fmt: skip
    with c3:
        factor = widgets.stepped(
            "Learning rate η, in units of 1/λ_max", "r_factor", FACTORS, 0.5,
            format_func=lambda f: f"{f:g} / λ_max",
        )  # fmt: skip
    r, onsets = lr_regime(surface, float(kappa), float(factor))
    bound = 1.2 * max(abs(float(r.steep[0])), abs(float(r.flat[0])), 1e-12)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        show_chart(
            layered(
                line_chart(
                    regime_frame(r), x="step", y="value", color="component",
                    color_title="distance", points=True, x_integer=True,
                    title=f"Gradient descent at η = {nice(r.eta)}: distance from the minimum",
                    x_title="step k", y_title="distance from the minimum", height=300,
                    y_domain=(-bound, bound),
                ),
                hline(0.0, "the valley floor", show_label=False),
                height=300,
            ),
            "Each component is the distance from the minimum along one direction; the dashed "
            "line is the floor of the valley (0). A path that changes sign every step is "
            "crossing it; lines that leave the chart have left the valley.",
        )  # fmt: skip
    with right:
        show_chart(threshold_axis(r), threshold_caption(r))
        st.latex(
            rf"1 - \eta\,\lambda_{{max}} = 1 - {num(r.eta)} \times {num(r.lam_max)} = "
            rf"{num(r.predicted, bracket=False)}"
        )
        st.markdown(regime_sentence(r) + " " + flat_sentence(r))
        if onsets is not None:
            st.caption(onsets_caption(onsets))


REGION_COLOURS = ("#56B4E9", "#E69F00", "#D55E00")


def threshold_axis(r):
    """The rate axis from 0 to 3/λ_max: the three regions, and the reader's η on it."""
    edges = (0.0, r.oscillate_at, r.diverge_at, max(3.0 * r.oscillate_at, 1.1 * r.eta))
    regions = pd.DataFrame(
        {
            "from": edges[:-1],
            "to": edges[1:],
            "region": ["below 1/λ_max", "1/λ_max to 2/λ_max", "above 2/λ_max"],
        }
    )
    marks = pd.DataFrame(
        {
            "x": [r.eta, r.oscillate_at, r.diverge_at],
            "label": [f"η = {nice(r.eta)}", "1/λ_max", "2/λ_max"],
            "at": ["top", "bottom", "bottom"],
        }
    )
    return region_axis(
        regions, marks, title="Where this η sits", x_title="learning rate η",
        colours=REGION_COLOURS,
    )  # fmt: skip


def threshold_caption(r) -> str:
    if r.local:
        return (
            "Near the minimum, below 1/λ_max the distance across shrinks without changing "
            "sign, between the thresholds it changes sign every step, and above 2/λ_max it "
            "would grow; the neuron's gradient is bounded, so there it swings on a cycle "
            f"instead. λ_max = {nice(r.lam_max)} is the cost's curvature at the minimum."
        )
    return (
        "Below 1/λ_max the distance across shrinks without changing sign; between the "
        "thresholds it changes sign every step; above 2/λ_max it grows. The thresholds "
        f"come from the surface's curvature λ_max = {nice(r.lam_max)}."
    )


def onsets_caption(o) -> str:
    text = (
        "The neuron's thresholds are the curvature of its cost at the minimum "
        f"(1/λ_max = {nice(o.oscillate_at)}, 2/λ_max = {nice(o.diverge_at)}). "
    )
    if o.crossing is not None:
        text += (
            f"Measured over {len(o.etas)} rates, paths first cross the floor at "
            f"η = {nice(o.crossing)}"
        )
        text += (
            f" and stop settling from η = {nice(o.unsettled)}."
            if o.unsettled is not None
            else "; every rate tried settles."
        )
    return text + (
        " Far from the minimum the neuron's gradient is bounded, so above 2/λ_max it swings "
        "on a cycle instead of running off to infinity."
    )


regimes_section()


# --- 2. on MNIST ------------------------------------------------------------------------------
st.header("2. On real digits")
SCAN = ScanSetup()


def scan_charts(scan) -> None:
    cost = pd.concat(
        [
            pd.DataFrame(
                {"epoch": r.history.epoch, "cost": r.history.train_cost, "η": f"{r.eta:g}"}
            )
            for r in scan.runs
        ],
        ignore_index=True,
    )
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            line_chart(
                cost, x="epoch", y="cost", color="η", color_title="learning rate",
                log_y=True, y_powers="auto", x_integer=True, points=True,
                title="Training cost per epoch, one line per rate",
                x_title="epoch", y_title="training cost (log scale)",
            ),
            "A run counts as diverged at the first epoch that ends with a higher training cost "
            "than the untrained network had: training made it worse at the very digits it "
            "trains on.",
        )  # fmt: skip
    final = pd.DataFrame(
        {
            "η": [r.eta for r in scan.runs],
            "accuracy": [r.final_accuracy for r in scan.runs],
            "label": [
                f"diverged in epoch {r.diverged_epoch}" if r.diverged_epoch else ""
                for r in scan.runs
            ],
            "side": "left",
        }
    ).dropna(subset=["accuracy"])
    with right:
        show_chart(
            layered(
                line_chart(
                    final, x="η", y="accuracy", log_x=True, points=True,
                    title="Final validation accuracy against the learning rate",
                    x_title="learning rate η (log scale)", y_title="accuracy (%)",
                    x_values=[r.eta for r in scan.runs],
                ),
                labelled_points(final[final["label"] != ""], x="η", y="accuracy",
                                label="label", side="side"),
            ),
            "Each point is a separate run of the same network from the same weights.",
        )  # fmt: skip
    st.markdown(scan_sentence(scan))


def range_chart(rr, scan) -> None:
    df = pd.concat(
        [
            pd.DataFrame({"η": rr.lrs, "cost": rr.losses, "curve": "mini-batch cost"}),
            pd.DataFrame({"η": rr.lrs, "cost": rr.smoothed, "curve": "smoothed"}),
        ],
        ignore_index=True,
    )
    lo, hi = rr.suggestion
    best = scan.runs[scan.best].eta if scan.best is not None else None
    best_line = [vline(best, f"scan's best η = {best:g}")] if best is not None else []
    blow_line = (
        [vline(rr.blew_up_at, f"blows up: η = {nice(rr.blew_up_at)}", label_at="bottom")]
        if rr.blew_up_at is not None
        else []
    )
    band = pd.DataFrame({"from": [lo], "to": [hi], "region": ["suggested range"]})
    show_chart(
        layered(
            shaded_spans(band, x="from", x2="to", label="region", color="#888888"),
            line_chart(
                df, x="η", y="cost", color="curve", color_title="cost", log_x=True,
                log_y=True, y_powers="auto",
                title=f"The range test: one run of {rr.setup.steps:,} steps, the rate rising "
                "each step", x_title="learning rate η (log scale)",
                y_title="mini-batch cost (log scale)",
            ),
            *best_line,
            hline(rr.start_cost, "the untrained network's cost", show_label=False),
            *blow_line,
        ),
        "The grey band is the range the test suggests: from a tenth of the rate where the "
        "smoothed cost is lowest up to that rate. The dashed horizontal line is the untrained "
        "network's cost"
        + (", and the last dashed vertical line where the smoothed cost climbs back above it"
           if blow_line else "")
        + "."
        + (" The dashed line is the best rate of the scan." if best_line else ""),
    )  # fmt: skip
    st.markdown(range_sentence(rr, scan))


def mnist_section() -> None:
    st.markdown(
        f"The [784, {SCAN.hidden}, 10] sigmoid network with cross-entropy, mini-batches of "
        f"{SCAN.batch_size}, {SCAN.epochs} epochs on {SCAN.n_train:,} digits, trained once per "
        f"rate ({', '.join(f'{e:g}' for e in SCAN.etas)}), from the same weights and on "
        "the same mini-batches."
    )
    scan = scan_result(SCAN, mnist_runs(SCAN.experiments(), f"Training {len(SCAN.etas)} networks"))
    scan_charts(scan)
    st.subheader("The learning-rate range test")
    st.markdown(
        "Smith's range test finds a good rate in one short run: start tiny, raise the rate a "
        "little every mini-batch, and watch the cost. It falls while the rate is useful and "
        "shoots up once it is too large."
    )
    range_chart(range_test(RangeSetup(scan=SCAN)), scan)


mnist_section()


# --- 3. schedules -----------------------------------------------------------------------------
st.header("3. Schedules: large at first, smaller later")
st.markdown(
    "A schedule sets the rate step by step: η_t instead of one η. Below, the same network "
    "([784, 30, 10], sigmoid hidden layer, softmax output, mini-batches of 10, plain SGD) "
    "trains under each schedule from the same starting rate, the same initial weights and the "
    "same mini-batches."
)
st.latex(
    r"\text{step: } \eta\, d^{\lfloor e / E \rfloor}\quad "
    r"\text{exponential: } \eta\, r^{e}\quad "
    r"\text{1/t: } \frac{\eta}{1 + k e}\quad "
    r"\text{cosine: } \eta_{min} + \tfrac12(\eta - \eta_{min})(1 + \cos \pi e / T)"
)
st.caption(
    "e is the epoch (fractional, step by step), T the run's length; cosine with restarts "
    "starts the cosine again every period. A warm-up raises the rate linearly from 0 to η "
    "over its first epochs, for every schedule."
)


def schedule_controls() -> ScheduleRace:
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        eta = widgets.stepped("Starting rate η", "s_eta", SCHEDULE_ETAS, 3.0)
    with c2:
        warmup = widgets.stepped("Warm-up (epochs)", "s_warmup", WARMUP_CHOICES, 0)
    with c3:
        n_train = widgets.stepped(
            "Training digits", "s_n", N_TRAIN_CHOICES, 3000, format_func="{:,}".format
        )
    with c4:
        epochs = widgets.stepped("Epochs", "s_epochs", EPOCH_CHOICES, 20)
    with st.expander("Each schedule's parameters"):
        c1, c2, c3, c4, c5 = st.columns(5)
        with c1:
            drop = widgets.stepped("Step: factor d", "s_drop", (0.1, 0.2, 0.5, 0.7), 0.5)
            every = widgets.stepped("… every E epochs", "s_every", (2, 3, 5, 10), 5)
        with c2:
            rate = widgets.stepped(
                "Exponential: r per epoch", "s_rate", (0.7, 0.8, 0.85, 0.9, 0.95), 0.85
            )
        with c3:
            k = widgets.stepped("1/t: k", "s_k", (0.1, 0.2, 0.5, 1.0, 2.0), 0.5)
        with c4:
            eta_min = widgets.stepped("Cosine: η_min", "s_eta_min", (0.0, 0.01, 0.1, 0.3), 0.0)
        with c5:
            period = widgets.stepped("Restarts: period (epochs)", "s_period", (2, 5, 10), 5)
            mult = widgets.stepped("… each period × ", "s_mult", (1.0, 2.0), 1.0)
    return ScheduleRace(
        eta=float(eta), drop=float(drop), every_epochs=every, rate=float(rate), k=float(k),
        eta_min=float(eta_min), period_epochs=period, mult=float(mult),
        warmup_epochs=warmup, n_train=int(n_train), epochs=int(epochs), seed=seed,
    )  # fmt: skip


ORDER = [SCHEDULE_LABELS[s] for s in SCHEDULES]


def curves_chart(setup: ScheduleRace) -> None:
    curves = schedule_curves(setup, max_points=400)
    per_epoch = setup.steps_per_epoch
    df = pd.concat(
        [
            pd.DataFrame({"epoch": steps / per_epoch, "rate": lr, "schedule": SCHEDULE_LABELS[n]})
            for n, (steps, lr) in curves.items()
        ],
        ignore_index=True,
    )
    show_chart(
        line_chart(
            df, x="epoch", y="rate", color="schedule", color_title="schedule",
            color_order=ORDER, title="The learning rate, step by step",
            x_title="epoch", y_title="learning rate η_t", height=260,
            y_domain=(0, 1.1 * setup.eta),
        ),
        f"Every schedule starts from η = {setup.eta:g}"
        + (f" after a warm-up of {setup.warmup_epochs:g} epochs" if setup.warmup_epochs else "")
        + "; the decays differ in how fast, and how smoothly, they bring it down.",
    )  # fmt: skip


def windows_frame(results) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"epoch": r.windows.epoch, "cost": r.windows.cost, "schedule": r.label})
            for r in results.values()
        ],
        ignore_index=True,
    )


def history_chart(results, field: str, title: str, y_title: str, scale: float = 1.0):
    """One line per schedule from epoch 1 (epoch 0 is the same untrained network for all and
    would squash the differences), on an axis fitted to the values."""
    df = pd.concat(
        [
            pd.DataFrame(
                {"epoch": r.history.epoch[1:], "value": scale * getattr(r.history, field)[1:],
                 "schedule": r.label}
            )
            for r in results.values()
        ],
        ignore_index=True,
    )  # fmt: skip
    lo, hi = float(df["value"].min()), float(df["value"].max())
    pad = 0.05 * (hi - lo) or 1.0
    return line_chart(
        df, x="epoch", y="value", color="schedule", color_title="schedule", color_order=ORDER,
        x_integer=True, title=title, x_title="epoch", y_title=y_title, height=260,
        y_domain=(lo - pad, hi + pad),
    )  # fmt: skip


def table_frame(rows) -> pd.DataFrame:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    return pd.DataFrame(
        {
            "schedule": [r.label for r in rows],
            "final accuracy": [pct(r.final_accuracy) for r in rows],
            "best accuracy": [pct(r.best_accuracy) for r in rows],
            "best at epoch": [r.best_epoch if r.best_epoch is not None else "–" for r in rows],
            "final training cost": [
                "–" if r.final_cost is None else nice(r.final_cost) for r in rows
            ],
            "diverged": [str(r.diverged_at) if r.diverged_at else "no" for r in rows],
        }
    ).astype(str)


def noise_caption(results) -> str:
    """How many points apart two runs must end to differ by more than validation noise."""
    finals = [r.final_accuracy for r in results.values() if r.final_accuracy is not None]
    if not finals:
        return "No run finished an epoch."
    top = 100 * max(finals)
    return (
        f"Near {top:.0f}%, two runs measured on {N_EVAL:,} validation digits must differ by "
        f"more than {accuracy_noise(top, top, N_EVAL):.1f} points before the gap is more than "
        "noise."
    )


@st.fragment
def schedules_section() -> None:
    setup = schedule_controls()
    curves_chart(setup)
    results = schedule_runs(setup)
    show_chart(
        line_chart(
            windows_frame(results), x="epoch", y="cost", color="schedule",
            color_title="schedule", color_order=ORDER, log_y=True, y_powers="auto",
            title="Training cost on the mini-batches, averaged over fifths of an epoch",
            x_title="epoch", y_title="mini-batch cost (log scale)",
        ),
        "With a constant rate each step stays as large as at the start, so the noise of "
        "10-digit mini-batches keeps kicking the cost; a decaying rate takes smaller and "
        "smaller steps. The sentence below says what these runs did.",
    )  # fmt: skip
    st.markdown(decay_sentence(results))
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            history_chart(results, "eval_accuracy", "Validation accuracy", "accuracy (%)", 100),
            noise_caption(results),
        )
    with right:
        show_chart(
            history_chart(results, "eval_cost", "Validation cost", "cost"),
            "The cost on digits the network never trains on.",
        )
    rows = schedule_table(results)
    st.dataframe(table_frame(rows), hide_index=True, width="stretch")
    st.markdown(schedule_sentence(rows))


schedules_section()


# --- 4. batch size and rate -------------------------------------------------------------------
st.header("4. Batch size and learning rate together")
st.markdown(
    "A mini-batch's gradient is an average over its digits: the larger the batch, the less "
    "it varies from batch to batch, and the fewer steps an epoch takes. So the rate that "
    "suits a batch changes with it. The same schedule, for the same epochs, at a small and a "
    "large batch, each at the rate and at the rate scaled with the batch:"
)


@st.fragment
def batch_section() -> None:
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        name = widgets.select("Schedule", "b_schedule", SCHEDULES, "constant", SCHEDULE_LABELS)
    with c2:
        eta = widgets.stepped("Rate η", "b_eta", (0.1, 0.3, 1.0), 0.3)
    with c3:
        small = widgets.stepped("Small batch", "b_small", BATCH_CHOICES[:-1], 10)
    with c4:
        large = widgets.stepped("Large batch", "b_large", BATCH_CHOICES[1:], 100)
    if large <= small:
        st.info("Choose a large batch larger than the small one.")
        return
    pair = BatchPair(ScheduleSpec(name), float(eta), int(small), int(large), seed=seed)
    runs = batch_pair_runs(pair)
    df = pd.concat(
        [
            pd.DataFrame(
                {"epoch": r.windows.epoch, "cost": r.windows.cost,
                 "batch": f"batch {r.batch_size}", "rate": f"η = {r.eta:g}"}
            )
            for r in runs
        ],
        ignore_index=True,
    )  # fmt: skip
    show_chart(
        line_chart(
            df, x="epoch", y="cost", color="batch", color_title="mini-batch", dash="rate",
            log_y=True, y_powers="auto",
            title="Training cost on the mini-batches, by batch size and rate",
            x_title="epoch", y_title="mini-batch cost (log scale)",
        ),
        f"Each point averages a fifth of an epoch: {pair.n_train // pair.small // 5:,} "
        f"mini-batches of {pair.small} but only {max(1, pair.n_train // pair.large // 5):,} of "
        f"{pair.large}, so the wiggles do not compare the noise of one step; the sentence "
        "below measures it.",
    )  # fmt: skip
    worse = worse_than_untrained(runs)
    if worse:
        st.markdown(
            "Diverged, by the rule of section 2 (the training cost ended above the untrained "
            "network's): "
            + "; ".join(
                f"batch {r.batch_size} at η = {r.eta:g} (cost {nice(r.final_cost)} against "
                f"{nice(float(r.history.train_cost[0]))} untrained)"
                for r in worse
            )
            + "."
        )
    st.markdown(batch_sentence(runs))


batch_section()
