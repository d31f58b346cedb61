"""The learning rate and its schedule: too small, right, too large; then decay."""

import pandas as pd
import streamlit as st

from charts import line_chart
from explain.activation_verdicts import accuracy_noise
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
)
from explain.schedule_lesson import ETA_CHOICES as SCHEDULE_ETAS
from ui import widgets
from ui.cache import batch_pair_runs, schedule_runs
from ui.display import show_chart
from ui.format import nice

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

# SECTIONS_1_2

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
    df = pd.concat(
        [
            pd.DataFrame(
                {"epoch": r.history.epoch, "value": scale * getattr(r.history, field),
                 "schedule": r.label}
            )
            for r in results.values()
        ],
        ignore_index=True,
    )  # fmt: skip
    return line_chart(
        df, x="epoch", y="value", color="schedule", color_title="schedule", color_order=ORDER,
        x_integer=True, title=title, x_title="epoch", y_title=y_title, height=260,
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
        "With a constant rate each step is as large at the end as at the start, so the cost "
        "stops falling and hovers: the noise of 10-digit mini-batches keeps kicking it. A "
        "decaying rate takes smaller steps and lets it settle lower.",
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
                 "run": f"batch {r.batch_size}, η = {r.eta:g}"}
            )
            for r in runs
        ],
        ignore_index=True,
    )  # fmt: skip
    show_chart(
        line_chart(
            df, x="epoch", y="cost", color="run", color_title="batch and rate", log_y=True,
            y_powers="auto", title="Training cost on the mini-batches, by batch size and rate",
            x_title="epoch", y_title="mini-batch cost (log scale)",
        ),
        "The larger batch takes fewer steps per epoch, and each of its steps is less noisy.",
    )  # fmt: skip
    st.markdown(batch_sentence(runs))


batch_section()
