"""One neuron, quadratic cost: it learns slowest exactly when it is most wrong."""

import numpy as np
import streamlit as st

from charts import heatmap, labelled_points, layered, line_chart, vline
from charts.figures import sigmoid_marker
from charts.frames import curves_frame, grid_frame, neuron_frame
from explain.neuron import (
    AT_MAXIMUM,
    NOTHING_TO_LEARN,
    SMALL_SIGMA_PRIME,
    NeuronSetup,
    arrival,
    below_max,
    by_error,
    compare_halving,
    course,
    error_size,
    starts_with_presets,
    window,
)
from explain.nn.activations import sigmoid, sigmoid_prime
from ui.cache import neuron_run, neuron_surface
from ui.display import show_chart
from ui.format import nice, num, plural
from ui.neuron_controls import epoch_to_inspect, neuron_controls
from ui.site import link

PLATEAU_KINDS = ("never moved", "still on the plateau", "plateau")

st.title("Learning slowdown")
st.markdown(
    "One sigmoid neuron, a = σ(wx + b), learns to output y for the input x by gradient descent "
    "on the **quadratic cost** C = (a − y)²/2. We would expect it to learn fastest when it is "
    "most wrong. Pick a preset or drag a slider: every number below is recomputed."
)

c = neuron_controls()
starts = starts_with_presets(c.w0, c.b0)
run = neuron_run(NeuronSetup(starts.w0, starts.b0, c.x, c.y, c.eta, c.epochs, "quadratic"))
k, me = starts.current, starts.labels[starts.current]
who = "your neuron" if me == "your start" else f"the neuron that {me}"
frame = neuron_frame(run, list(starts.labels))
courses = [course(run, c.y, i) for i in range(len(starts.labels))]


def names(indices) -> str:
    """'starts close', 'starts close and your start', ..."""
    labels = [f"“{starts.labels[i]}”" for i in indices]
    return ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0]


def plateau_caption() -> str:
    """What the cost chart shows about plateaus, from the measured courses."""
    flat = [i for i, crs in enumerate(courses) if crs.kind in PLATEAU_KINDS]
    if not flat:
        return "Here no start waits on a plateau before its cost falls."
    parts = []
    for i in flat:
        crs = courses[i]
        parts.append(
            f"“{starts.labels[i]}” "
            + {
                "never moved": f"stays flat for all {c.epochs} epochs",
                "still on the plateau": f"has not started to fall fast by epoch {c.epochs}",
                "plateau": f"falls fastest only at epoch {crs.peak_epoch}",
            }[crs.kind]
        )
    return "A plateau is a cost that stays flat before it falls. Here: " + "; ".join(parts) + "."


# --- 1. the plateau -------------------------------------------------------------------
st.header("1. Watch it learn")
left, right = st.columns(2)
with left:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="C",
            color="start",
            color_title="start",
            title="Cost against epoch",
            x_title="epoch",
            y_title="quadratic cost C",
        ),
        plateau_caption(),
    )
with right:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="a",
            color="start",
            color_title="start",
            title="Output a against epoch",
            x_title="epoch",
            y_title="output a = σ(wx + b)",
            y_domain=(0, 1),
        ),
        f"The target is y = {c.y:g}. Compare how far each start is from it with how fast it moves.",
    )


def halving_text(i: int) -> str:
    """One start's entry in the list of halving times."""
    crs = courses[i]
    head = f"{starts.labels[i]} (a = {nice(run.a[0, i])}, error {nice(crs.error0)}): "
    if crs.kind == "nothing to learn":
        return head + f"nothing to learn (the error is below {NOTHING_TO_LEARN:g})"
    if crs.halved_at is None:
        still = " (it never moves)" if crs.kind == "never moved" else ""
        return head + f"not within **{c.epochs}** epochs{still}"
    settle = ", then it overshoots and the error does not settle" if crs.overshoots else ""
    return head + f"**{plural(crs.halved_at, 'epoch')}**{settle}"


def halving_verdict() -> str:
    """The sentence comparing the biggest and the smallest mistake, chosen by the measurement."""
    h = compare_halving(courses)
    if h.kind == "too few":
        live = [i for i, crs in enumerate(courses) if crs.kind != "nothing to learn"]
        return (
            f"Only “{starts.labels[live[0]]}” has anything to learn: nothing to compare."
            if live
            else "No start has anything to learn: each is already at its target."
        )
    big, small = starts.labels[h.bigger], starts.labels[h.smaller]
    n_big, n_small = courses[h.bigger].halved_at, courses[h.smaller].halved_at
    return {
        "same error": f"“{big}” and “{small}” start equally wrong: there is no bigger mistake.",
        "smaller first": (
            f"The bigger mistake (“{big}”) takes **{nice(h.ratio)}×** as long to halve as the "
            f"smaller (“{small}”): the opposite of what we would want."
            if h.ratio is not None
            else f"The bigger mistake (“{big}”) has not halved within {c.epochs} epochs, while "
            f"the smaller (“{small}”) took {n_small}: the opposite of what we would want."
        ),
        "bigger first": (
            f"Here the bigger mistake (“{big}”) halves first: {plural(n_big, 'epoch')} "
            f"against {n_small}."
            if n_small is not None
            else f"Here the bigger mistake (“{big}”) halves first, in {plural(n_big, 'epoch')}; "
            f"the smaller (“{small}”) has not within {c.epochs}."
        ),
        "tie": f"“{big}” and “{small}” both take {plural(n_big, 'epoch')}: a tie.",
        "neither": f"Neither “{big}” nor “{small}” halves its error within {c.epochs} epochs.",
    }[h.kind]


st.markdown(
    "Epochs until the error |a − y| is half of what it was at the start: "
    + "; ".join(halving_text(i) for i in by_error(run, c.y))
    + ". "
    + halving_verdict()
)


# --- 2. why: sigma' -------------------------------------------------------------------
def factor_sentence(a: float, y: float, sp: float) -> str:
    """The error and sigma' at the inspected epoch, in words chosen by their sizes."""
    size, below = error_size(abs(a - y)), below_max(sp)
    error = f"The error a − y = **{nice(a - y)}** is {size}"
    if size == "almost zero":
        return f"{error}: there is little left to learn, whatever σ′(z) (= {nice(sp)}) is."
    if sp == 0:
        return f"{error}, but σ′(z) has underflowed to 0: this neuron cannot learn at all."
    where = f"**{nice(below)}×** below its maximum"
    where = "at its maximum of 1/4" if below < AT_MAXIMUM else where
    tail = (
        ": the neuron is saturated, so it learns slowly however wrong it is."
        if sp < SMALL_SIGMA_PRIME
        else "."
    )
    return f"{error}; σ′(z) = **{nice(sp)}** is {where}, and it multiplies everything{tail}"


OVERSHOOT = (
    " Then η is too large: each step overshoots the target, and the error jumps back and forth "
    "instead of settling."
)


def gradient_caption(crs, epochs: int) -> str:
    """What the gradient-against-epoch chart shows for the inspected neuron."""
    extra = OVERSHOOT if crs.overshoots and crs.kind != "overshoots" else ""
    return {
        "nothing to learn": "Here the error is almost zero from the start, and so is the gradient.",
        "never moved": f"Here it stays tiny for all {epochs} epochs: σ′(z) = "
        f"{nice(crs.sigma_prime0)} keeps the neuron on the flat part of σ, and it never moves.",
        "overshoots": "Here η is too large: each step overshoots the target, and the gradient "
        "jumps up and down instead of settling.",
        "still on the plateau": f"Here it is still growing at the last epoch ({nice(crs.growth)}× "
        "its first value): the neuron is still leaving the flat part of σ, the plateau of "
        "section 1.",
        "plateau": f"Here it first grows {nice(crs.growth)}×, up to epoch {crs.peak_epoch}, as "
        "the neuron leaves the flat part of σ: that is the plateau of section 1.",
        "at once": "Here it is largest "
        + ("at epoch 0" if crs.peak_epoch == 0 else f"near the start (epoch {crs.peak_epoch})")
        + " and shrinks as the error does: no plateau.",
    }[crs.kind] + extra


@st.fragment
def why_sigma_prime(c, run, frame, k, me, who, crs):
    """Section 2; owns the epoch slider."""
    st.header("2. Why: the factor σ′(z)")
    epoch = epoch_to_inspect(
        f"Epoch to inspect ({me})",
        c.epochs,
        "Moves the marker on the sigmoid and the numbers in the formula.",
    )
    z, a, sp = run.z[epoch, k], run.a[epoch, k], run.sigma_prime[epoch, k]
    left, right = st.columns([1, 1], gap="large")
    with left:
        zs = np.linspace(min(-10.0, z - 1), max(10.0, z + 1), 401)
        show_chart(
            sigmoid_marker(
                zs,
                sigmoid(zs),
                sigmoid_prime(zs),
                z,
                a,
                sp,
                labels=(nice(a), nice(sp)),
                title=f"Where the neuron sits at epoch {epoch}",
                x_title="weighted input z = wx + b",
            ),
            "Where σ is flat (|z| large), σ′ is nearly 0: the output barely responds to any change "
            "of w or b, so the gradient is small.",
        )
    with right:
        st.markdown(f"At epoch **{epoch}**, for {who}:")
        dw, db = run.dC_dw[epoch, k], run.dC_db[epoch, k]
        # the thin space after an aligned block: KaTeX draws it 2 px past the box it reserves
        st.latex(
            rf"""\begin{{aligned}}
            a - y &= {num(a)} - {num(c.y)}\\
            \sigma'(z) &= {num(sp)}\\
            x &= {num(c.x)}\\[4pt]
            \frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x = {num(dw)}\\[4pt]
            \frac{{\partial C}}{{\partial b}} &= (a-y)\,\sigma'(z) = {num(db)}
            \end{{aligned}}\,"""
        )
        st.markdown(factor_sentence(a, c.y, sp))
    grads = frame[frame["start"] == me].melt(
        id_vars=["epoch"], value_vars=["dC_dw", "dC_db"], var_name="gradient", value_name="size"
    )
    grads = grads.assign(
        gradient=grads["gradient"].map({"dC_dw": "|∂C/∂w|", "dC_db": "|∂C/∂b|"}),
        size=grads["size"].abs(),
    )
    note = {
        c.x == 0: " With x = 0, ∂C/∂w = 0: the weight cannot learn at all, only the bias.",
        abs(c.x) == 1: f" With x = {c.x:g} the two lines coincide (dashed over solid).",
    }.get(True, "")
    show_chart(
        layered(
            line_chart(
                grads,
                x="epoch",
                y="size",
                color="gradient",
                color_title="gradient",
                dash="gradient",
                log_y=True,
                y_powers=True,
                title=f"Gradient size against epoch ({me})",
                x_title="epoch",
                y_title="|gradient| (log scale)",
            ),
            vline(epoch, f"epoch {epoch}"),
        ),
        "The gradient is the speed of learning; |∂C/∂w| = |x| · |∂C/∂b|. "
        + gradient_caption(crs, c.epochs)
        + note,
    )


why_sigma_prime(c, run, frame, k, me, who, courses[k])


# --- 3. the cost surface ----------------------------------------------------------------
def surface_caption(every: int) -> str:
    """Where the dots bunch up, from the measured courses of the starts."""
    flat = [i for i, crs in enumerate(courses) if crs.kind in PLATEAU_KINDS]
    jumpy = [i for i, crs in enumerate(courses) if crs.overshoots]
    arrived = [
        i
        for i, crs in enumerate(courses)
        if crs.kind != "nothing to learn" and crs.error_end < crs.error0 / 10
    ]
    parts = []
    if flat:
        parts.append(f"on the high plateau where σ is saturated ({names(flat)})")
    if arrived:
        parts.append(
            f"near the bottom, where the slope vanishes as a neuron arrives ({names(arrived)})"
        )
    text = (
        f"One dot {'per epoch' if every == 1 else f'every {every} epochs'}; each path begins at "
        "its labelled black dot; "
        "darker grey is higher cost. "
    )
    text += (
        "Dots bunch up where the surface is flat: " + ", and ".join(parts) + "."
        if parts
        else "No path dwells on a flat stretch here, and none has arrived near the bottom yet."
    )
    if jumpy:
        text += (
            f" The path of {names(jumpy)} jumps back and forth: η is too large for it."
            if len(jumpy) == 1
            else f" The paths of {names(jumpy)} jump back and forth: η is too large for them."
        )
    return text


st.header("3. The ball rolling on the cost surface")
(w_lo, w_hi), (b_lo, b_hi) = window(run)
surface = neuron_surface("quadratic", c.x, c.y, (w_lo, w_hi), (b_lo, b_hi), n=41)
grid = grid_frame(surface.w, surface.b, surface.cost, ("w", "b", "cost"))
every = max(1, c.epochs // 60)
path = neuron_frame(run, list(starts.labels), every=every)
ends = path.groupby("start").head(1)
ends = ends.assign(
    label="start: " + ends["start"],
    side=np.where(ends["w"] > (w_lo + w_hi) / 2, "left", "right"),
)
show_chart(
    layered(
        heatmap(
            grid,
            x="w",
            y="b",
            value="cost",
            title="Quadratic cost C(w, b) and the paths taken",
            x_title="weight w",
            y_title="bias b",
            value_title="cost C",
            colour_range=("#fcfcfc", "#8a8a8a"),
        ),
        line_chart(
            path,
            x="w",
            y="b",
            color="start",
            color_title="start",
            order="epoch",
            title="",
            x_title="weight w",
            y_title="bias b",
            points=True,
        ),
        labelled_points(ends, x="w", y="b", label="label", side="side"),
        height=440,
    ),
    surface_caption(every),
)


# --- 4. the second cause ------------------------------------------------------------------
def factors_caption(crs, long_epochs: int) -> str:
    """How the product |a − y| · σ′(z) behaves over the long run, from its measured course."""
    sp0 = nice(crs.sigma_prime0)
    at_once = (
        f"From this start it is largest at once (σ′(z) = {sp0}"
        + (
            f", not small here: within {nice(below_max(crs.sigma_prime0))}× of its maximum)"
            if crs.sigma_prime0 >= SMALL_SIGMA_PRIME
            else ")"
        )
        + " and only shrinks as the error |a − y| does."
        if crs.peak_epoch == 0
        else f"From this start it is nearly largest at once: it peaks at epoch {crs.peak_epoch}, "
        f"only {nice(crs.growth)}× its first value, then shrinks as the error |a − y| does."
    )
    return {
        "nothing to learn": "The error is almost zero from the start, so the product is tiny "
        "throughout: there is nothing to learn.",
        "never moved": f"σ′(z) = {sp0} keeps it tiny for all {long_epochs} epochs: the neuron "
        "never leaves the plateau.",
        "overshoots": "η is too large here: each step overshoots the target, and the error jumps "
        "back and forth instead of settling.",
        "still on the plateau": f"σ′(z) keeps it small, and it is still growing at epoch "
        f"{long_epochs}: the neuron is still leaving the plateau.",
        "plateau": f"Until epoch {crs.peak_epoch} σ′(z) keeps it small (it grows "
        f"{nice(crs.growth)}× by then); after that "
        + (
            "each step overshoots the target: η is too large, and the error does not settle."
            if crs.overshoots
            else "the error |a − y| shrinks."
        ),
        "at once": at_once,
    }[crs.kind] + (OVERSHOOT if crs.overshoots and crs.kind == "still on the plateau" else "")


def arrival_text(crs, arr, long_epochs: int) -> str | None:
    """The paragraph under the chart: is the slowdown at the end a harmless arrival?"""
    if crs.kind == "nothing to learn":
        return (
            f"This neuron starts at its target already (|a − y| = {nice(crs.error0)}): "
            "there is nothing left to learn."
        )
    if crs.kind in ("never moved", "still on the plateau"):
        return (
            f"Within {long_epochs} epochs it never gets past its first, harmful slowdown: the "
            f"neuron is stuck on the plateau while its error is still {error_size(crs.error_end)}."
        )
    if crs.overshoots:
        return "Its steps overshoot, so the error does not settle: a smaller η lets it."
    if arr.slow_epoch is None:
        return f"Within {long_epochs} epochs the gradient never falls back to a tenth of its peak."
    text = (
        f"The gradient peaks at epoch **{arr.peak_epoch}**. By epoch **{arr.slow_epoch}** it is "
        f"ten times smaller again, and the cost is down to **{nice(100 * arr.cost_ratio)}%** of "
        "where it started. "
    )
    if not arr.harmless:
        return text + "So this neuron slows down while much of its cost is still left."
    text += (
        "This slowdown is harmless: gradient descent slows as it arrives, because there is "
        "little left to learn. "
    )
    return text + (
        "The first slowdown, the plateau, was the harmful one: it happened while the neuron was "
        "still badly wrong."
        if crs.kind == "plateau"
        else "This start had no harmful first slowdown: its gradient was largest at once."
        if crs.peak_epoch == 0
        else "This start had no harmful first slowdown: its gradient grew only "
        f"{nice(crs.growth)}× before its peak."
    )


st.header("4. The second slowdown: arriving")
long_epochs = max(c.epochs, 2000)
long_run = neuron_run(NeuronSetup((c.w0,), (c.b0,), c.x, c.y, c.eta, long_epochs, "quadratic"))
long_course, arr = course(long_run, c.y), arrival(long_run, 0)
factors = curves_frame(
    long_run.epoch,
    {
        "|a − y|": np.abs(long_run.a[:, 0] - c.y),
        "σ′(z)": long_run.sigma_prime[:, 0],
        "|∂C/∂b|": np.abs(long_run.dC_db[:, 0]),
    },
    x_name="epoch",
)
show_chart(
    line_chart(
        factors,
        x="epoch",
        y="value",
        color="curve",
        color_title="factor",
        title=f"The two factors of the gradient, over {long_epochs} epochs ({me})",
        x_title="epoch",
        y_title="value (log scale)",
        log_y=True,
        y_powers=True,
    ),
    "|∂C/∂b| = |a − y| · σ′(z) is the product of the other two lines. "
    + factors_caption(long_course, long_epochs),
)
st.markdown(arrival_text(long_course, arr, long_epochs))
if arr.slow_epoch is not None and long_course.kind in ("plateau", "at once") and c.y in (0, 1):
    st.markdown(
        f"With y = {c.y:g}, σ′(z) = a(1 − a) is itself about |a − y| near the target, so the "
        "gradient shrinks like (a − y)² and the approach is slower than exponential. For a "
        "target strictly between 0 and 1, σ′ stays away from 0 and only a − y shrinks."
    )

st.info(
    "The cure for the first slowdown is a cost whose gradient does not carry σ′(z): "
    f"see {link('cross-entropy', 'The cross-entropy fix')}."
)
