"""Optimizers: SGD's three problems (narrow valleys, saddles, noise) and the fixes, on
surfaces the reader can see and on MNIST."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import hline, layered, line_chart, vline
from charts.figures import accuracy_curves, optimizer_paths, per_optimizer_panels
from charts.frames import curves_frame, history_frame, layers_frame
from explain.descent import (
    ADAPTIVE,
    ETA_OPTIONS,
    FLOOR,
    OPTIMIZER_NAMES,
    SUGGESTED_ETAS,
    SURFACE_LABELS,
    SURFACE_NAMES,
    Race,
    Setting,
    Terrain,
    race_findings,
    rate_trace,
    scan_sentence,
    step_numbers,
    theory_sentence,
    trace_sentence,
)
from explain.nn.optimizers import OPTIMIZER_LABELS
from explain.nn.surfaces import get_surface
from explain.optimizer_race import (
    DEFAULT_ETAS,
    ETA_CHOICES,
    RaceSetup,
    gap_overview,
    gap_sentence,
    layer_gap,
    race_summary,
    race_table,
)
from ui import widgets
from ui.cache import adam_checks, mnist_runs, quadratic_theory, surface_grid, surface_race
from ui.display import show_chart
from ui.format import nice, num, plural
from ui.site import link

LABELS = {n: OPTIMIZER_LABELS[n] for n in OPTIMIZER_NAMES}
KAPPAS = (1, 2, 5, 10, 20, 50, 100, 200)
NOISES = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
STEPS = (25, 50, 100, 150, 200, 300, 400)  # 400 steps of six optimizers: under 50 ms
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
RHOS = (0.5, 0.9, 0.99, 0.999)
BETA1S = (0.0, 0.5, 0.9, 0.99)
BETA2S = (0.9, 0.99, 0.999, 0.9999)

SHORT = {"quadratic": "q", "scaled_rosenbrock": "r", "beale": "b", "himmelblau": "h", "saddle": "s"}


def eta_key(surface: str, name: str) -> str:
    """Each surface has its own learning-rate widgets (and URL keys), so a link to a surface
    gets the rates that suit it: the quadratic's SGD at 1.9 would overshoot on Beale."""
    return f"eta_{name}_{SHORT[surface]}"


def start_keys(surface: str) -> tuple[str, str]:
    return f"x0_{SHORT[surface]}", f"y0_{SHORT[surface]}"


def start_of(surface: str, kappa: float = 50, angle: float = 30) -> tuple[float, float]:
    """A surface's default start, to 3 decimals (the start sliders' step)."""
    params = dict(kappa=kappa, angle_deg=angle) if surface == "quadratic" else {}
    x, y = get_surface(surface, **params).start
    return round(x, 3), round(y, 3)


def preset(surface: str, names: list[str], etas: dict, start=None, **widgets_values) -> dict:
    """A preset: the surface, the chosen optimizers, all six rates (the surface's suggestions
    where not given), the start, and any other section-1 widget values."""
    rates = {**SUGGESTED_ETAS[surface], **etas}
    x, y = start or start_of(surface)
    xk, yk = start_keys(surface)
    return dict(
        surface=surface, opt=names, **{eta_key(surface, n): v for n, v in rates.items()},
        **{xk: x, yk: y}, **widgets_values,
    )  # fmt: skip


# The notes' three problems of SGD, and what the adaptive methods do, as settings of section 1.
PRESETS = {
    "zigzag": preset(
        "quadratic", ["sgd", "momentum", "adam"], dict(sgd=1.9, momentum=1.0, adam=0.2),
        kappa=50, angle=30, noise=0.0, steps=150, beta=0.8,
    ),
    "saddle": preset(
        "saddle", ["sgd", "momentum", "adam"], dict(sgd=0.01, momentum=0.01, adam=0.05),
        start=(1.5, 0.001), noise=0.0, steps=150, beta=0.9,
    ),
    "noise": preset(
        "quadratic", ["sgd", "momentum", "adam"], dict(sgd=0.5, momentum=0.05, adam=0.1),
        kappa=5, angle=30, noise=1.0, steps=150, beta=0.9,
    ),
    "adaptive": preset(
        "quadratic", ["sgd", "adagrad", "rmsprop", "adam"], {}, kappa=20, angle=30, noise=0.0,
        steps=150, beta=0.9,
    ),
}  # fmt: skip
PRESET_LABELS = {
    "zigzag": "Zig-zag in a narrow valley",
    "saddle": "Stalled at a saddle",
    "noise": "Noisy gradients",
    "adaptive": "Adaptive rates",
}
DEFAULT = PRESETS["zigzag"]  # the page opens on the narrow valley
SAME_PATH = 1e-3  # two paths whose positions never differ by more than this are "the same"


def eta_text(v: float) -> str:
    return f"{v:g}"


def default_eta(surface: str, name: str) -> float:
    return DEFAULT.get(eta_key(surface, name), SUGGESTED_ETAS[surface][name])


def default_start(surface: str) -> tuple[float, float]:
    xk, yk = start_keys(surface)
    return (DEFAULT[xk], DEFAULT[yk]) if xk in DEFAULT else start_of(surface)


st.title("Optimizers")
lead, seed_column = st.columns([3, 1], gap="large")
with seed_column:
    seed = widgets.seed()
with lead:
    st.markdown(
        "Plain stochastic gradient descent (SGD) steps against the gradient, by the same "
        "learning rate in every direction. Three things go wrong: in a valley that is steep one "
        "way and shallow the other it **zig-zags**; at a **saddle** point the gradient vanishes "
        "and it stalls; and the **noise** of mini-batch gradients keeps it from settling. "
        "Momentum, Adagrad, RMSProp and Adam each change the step to fix one of these. Watch "
        "them on surfaces you can see (sections 1 to 3), then on real digits (section 4)."
    )
    with st.expander("The update rules, side by side"):
        st.latex(r"\textbf{SGD:}\quad u = -\eta\, g")
        st.latex(r"\textbf{momentum:}\quad v \leftarrow \beta v + g,\quad u = -\eta\, v")
        st.latex(r"\textbf{Nesterov:}\quad v \leftarrow \beta v + g,\quad u = -\eta\,(g + \beta v)")
        st.latex(
            r"\textbf{Adagrad:}\quad G \leftarrow G + g^2,\quad "
            r"u = -\frac{\eta\, g}{\sqrt{G}+\epsilon}"
        )
        st.latex(
            r"\textbf{RMSProp:}\quad s \leftarrow \rho s + (1-\rho) g^2,\quad "
            r"u = -\frac{\eta\, g}{\sqrt{s}+\epsilon}"
        )
        st.latex(
            r"\textbf{Adam:}\quad m \leftarrow \beta_1 m + (1-\beta_1) g,\ "
            r"v \leftarrow \beta_2 v + (1-\beta_2) g^2"
        )
        st.latex(
            r"\hat m = \frac{m}{1-\beta_1^t},\ \hat v = \frac{v}{1-\beta_2^t},\ "
            r"u = -\frac{\eta\, \hat m}{\sqrt{\hat v}+\epsilon}"
        )
        st.markdown(
            "g is the gradient at the current point, u the step taken (p ← p + u); squares, "
            "square roots and divisions act on each coordinate separately, which is what "
            "makes the last three *adaptive*: every coordinate gets its own effective rate."
        )


# --- 1. paths on a surface --------------------------------------------------------------------
st.header("1. Paths on a surface")


def race_controls() -> tuple[Race, int]:
    """The section's widgets, read into a Race and the step to follow."""
    widgets.preset_buttons(PRESETS, PRESET_LABELS, key="preset")
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    with c1:
        surface = widgets.select("Surface", "surface", SURFACE_NAMES, "quadratic", SURFACE_LABELS)
    quadratic = surface == "quadratic"
    with c2:
        kappa = widgets.stepped(
            "Condition number κ", "kappa", KAPPAS, DEFAULT["kappa"], disabled=not quadratic,
            help="λ_max / λ_min of the quadratic: how much steeper the valley is across than "
            "along. Only for the quadratic.",
        )  # fmt: skip
    with c3:
        angle = widgets.slider(
            "Rotation (°)", "angle", 0, 90, DEFAULT["angle"], step=15, disabled=not quadratic,
            help="Turns the quadratic's valley away from the axes. Only for the quadratic.",
        )  # fmt: skip
    with c4:
        noise = widgets.stepped(
            "Gradient noise σ", "noise", NOISES, 0.0,
            help="Standard deviation of Gaussian noise added to each gradient component, as "
            "the error of a mini-batch estimate. All optimizers get the same draws (seed).",
        )  # fmt: skip
    c1, c2 = st.columns([3, 1])
    with c1:
        names = widgets.pills("Optimizers", "opt", OPTIMIZER_NAMES, DEFAULT["opt"], LABELS)
    with c2:
        steps = widgets.stepped("Steps", "steps", STEPS, DEFAULT["steps"])
    settings, start = hyperparameters(names, surface)
    if st.session_state.get("follow", steps) > steps:
        st.session_state["follow"] = steps
    follow = widgets.slider(
        "Follow the paths: show the first … steps", "follow", 0, steps, steps,
        help="Every path is computed to the end; this only shows its first steps.",
    )  # fmt: skip
    r = Race(Terrain(surface, float(kappa), float(angle)), settings, start, steps, noise, seed)
    return r, follow


def hyperparameters(names: list[str], surface: str):
    """Each optimizer's learning rate on this surface, the shared decay rates, and the start:
    (settings of the chosen optimizers, start point)."""
    with st.expander("Learning rates, decay rates and the start point", expanded=False):
        st.caption(
            "Each surface keeps its own learning rates and start, set at first to values that "
            "work there; the presets set theirs. The same β, ρ, β₁ and β₂ apply everywhere."
        )
        cols = st.columns(6)
        etas = {}
        for col, name in zip(cols, OPTIMIZER_NAMES):
            with col:
                etas[name] = widgets.stepped(
                    f"η {LABELS[name]}", eta_key(surface, name), ETA_OPTIONS,
                    default_eta(surface, name), format_func=eta_text,
                )  # fmt: skip
        c1, c2, c3, c4, c5 = st.columns(5)
        with c1:
            beta = widgets.stepped("β (momentum)", "beta", BETAS, DEFAULT["beta"])
        with c2:
            rho = widgets.stepped("ρ (RMSProp)", "rho", RHOS, 0.9)
        with c3:
            beta1 = widgets.stepped("β₁ (Adam)", "beta1", BETA1S, 0.9)
        with c4:
            beta2 = widgets.stepped("β₂ (Adam)", "beta2", BETA2S, 0.999)
        with c5:
            bc = widgets.toggle("Adam's bias correction", "bc", True)
        c1, c2, _ = st.columns([1, 1, 3])
        (xk, yk), (x_default, y_default) = start_keys(surface), default_start(surface)
        with c1:
            x0 = widgets.slider("Start x", xk, -5.0, 5.0, x_default, step=0.001)
        with c2:
            y0 = widgets.slider("Start y", yk, -5.0, 5.0, y_default, step=0.001)
    settings = tuple(
        Setting(n, etas[n], beta=beta, rho=rho, beta1=beta1, beta2=beta2, bias_correction=bc)
        for n in names
    )
    return settings, (x0, y0)


def paths_frame(paths: dict, follow: int, bounds) -> pd.DataFrame:
    """Columns x, y, step, optimizer: each path up to step ``follow``, cut where it leaves the
    map by more than the map's own size (it is drawn clipped at the edge up to there)."""
    (x_lo, x_hi), (y_lo, y_hi) = bounds
    wx, wy = x_hi - x_lo, y_hi - y_lo
    df = pd.concat(
        [
            pd.DataFrame(
                {"x": p.xy[: follow + 1, 0], "y": p.xy[: follow + 1, 1], "optimizer": label}
            ).assign(step=lambda d: np.arange(len(d)))
            for label, p in paths.items()
        ],
        ignore_index=True,
    )
    near = df["x"].between(x_lo - wx, x_hi + wx) & df["y"].between(y_lo - wy, y_hi + wy)
    return df[near]


def marks_frame(surface, start, paths: dict, follow: int) -> pd.DataFrame:
    """The start, the minima and each path's position at step ``follow`` (labelled by name)."""
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    rows = [(start[0], start[1], "start")]
    rows += [(x, y, "minimum") for x, y in surface.minima]
    for p in paths.values():
        k = min(follow, len(p.xy) - 1)
        rows.append((p.xy[k, 0], p.xy[k, 1], ""))
    df = pd.DataFrame(rows, columns=["x", "y", "label"])
    df = df[df["x"].between(x_lo, x_hi) & df["y"].between(y_lo, y_hi)]
    return df.assign(side=np.where(df["x"] > (x_lo + x_hi) / 2, "left", "right"))


def surface_chart(r: Race, paths: dict, follow: int) -> None:
    surface = r.terrain.build()
    xs, ys, f = surface_grid(r.terrain)
    has_min = surface.min_value is not None
    grid = pd.DataFrame(
        {
            "x": np.tile(xs, len(ys)),
            "y": np.repeat(ys, len(xs)),
            "f": (np.maximum(f - surface.min_value, 1e-3) if has_min else f).ravel(),
        }
    )
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    show_chart(
        optimizer_paths(
            grid,
            paths_frame(paths, follow, surface.bounds),
            marks_frame(surface, r.start, paths, follow),
            log_value=has_min,
            value_title="f − f_min" if has_min else "f",
            title=f"Paths on the {SURFACE_LABELS[r.terrain.surface].split(':')[0]}, "
            f"first {plural(follow, 'step')}",
            x_domain=(x_lo, x_hi),
            y_domain=(y_lo, y_hi),
        ),
        "Grey is the height of the surface (darker is higher"
        + (", on a log scale" if has_min else "")
        + "); each dot is one step. "
        + (
            "At κ = 1 the valley is a round bowl: every direction is equally steep."
            if r.terrain.surface == "quadratic" and r.terrain.kappa == 1
            else "Across the valley the surface is steep, along it shallow: look for steps "
            "that cross the valley back and forth."
            if r.terrain.surface == "quadratic"
            else "The saddle's ridge is the line y = 0: the surface rises along x and falls "
            "along y."
            if r.terrain.surface == "saddle"
            else ""
        ),
    )


def loss_chart(r: Race, paths: dict, follow: int) -> None:
    surface = r.terrain.build()
    has_min = surface.min_value is not None
    frames = []
    for label, p in paths.items():
        value = p.loss - surface.min_value if has_min else p.loss
        frames.append(
            pd.DataFrame({"step": np.arange(len(p.loss)), "value": value, "optimizer": label})
        )
    df = pd.concat(frames, ignore_index=True)
    y_title = "f − f_min (log scale)" if has_min else "f (cut at −10)"
    chart = line_chart(
        df,
        x="step",
        y="value",
        color="optimizer",
        color_title="optimizer",
        log_y=has_min,
        y_powers="auto",
        x_integer=True,
        y_domain=None if has_min else (SADDLE_FLOOR, max(1.0, float(df["value"].max()))),
        title="Height above the minimum, step by step" if has_min else "Height f, step by step",
        x_title="step",
        y_title=y_title,
        height=420,
    )
    layers = [chart] + ([vline(follow, f"step {follow}")] if follow < r.steps else [])
    if not has_min:
        layers.insert(1, hline(0.0, "the saddle point's height", show_label=False))
    show_chart(
        layered(*layers, height=420),
        (
            "A straight falling line on this log axis is a constant rate: the distance shrinks "
            "by the same factor every step. "
            if has_min
            else "The dashed line at 0 is the saddle point's height: a flat line there is a "
            "path stalled on it, a line falling away a path that escaped. " + fallen_text(paths)
        )
        + ("The dashed vertical line is the step shown on the left." if follow < r.steps else "")
        + (zero_text(paths, surface) if has_min else ""),
    )


SADDLE_FLOOR = -10.0  # the saddle is unbounded below: its chart stops here


def fallen_text(paths: dict) -> str:
    """Which saddle paths fell off the bottom of the chart, and at which step."""
    gone = {
        label: int(np.argmax(p.loss < SADDLE_FLOOR))
        for label, p in paths.items()
        if np.any(p.loss < SADDLE_FLOOR)
    }
    if not gone:
        return ""
    return (
        "Below −10 the chart stops: "
        + ", ".join(f"{label} falls past it at step {k}" for label, k in gone.items())
        + ". "
    )


def zero_text(paths: dict, surface) -> str:
    if any(np.any(p.loss - surface.min_value <= 0) for p in paths.values()):
        return (
            " Values of exactly 0 (the minimum hit to machine precision) have no place on a "
            "log axis and are left out."
        )
    return ""


def vec(a: np.ndarray) -> str:
    """A 2-vector as a LaTeX column, 3 significant digits."""
    x, y = (num(float(v), digits=3, bracket=False) for v in a)
    return rf"\begin{{pmatrix}} {x} \\ {y} \end{{pmatrix}}"


def step_latex(s: Setting, n) -> list[str]:
    """The update of ``s`` at step n.t with its numbers plugged in, one LaTeX line each."""
    g, u, b, a = n.g, n.u, n.before, n.after
    eta = num(n.eta)
    if s.name == "sgd":
        return [rf"u = -\eta\, g = -{eta} \cdot {vec(g)} = {vec(u)}"]
    if s.name in ("momentum", "nesterov"):
        lines = [rf"v = \beta v + g = {num(s.beta)} \cdot {vec(b['v'])} + {vec(g)} = {vec(a['v'])}"]
        rule = r"-\eta\, v" if s.name == "momentum" else r"-\eta\,(g + \beta v)"
        return lines + [rf"u = {rule} = {vec(u)}"]
    if s.name == "adagrad":
        return [
            rf"G = G + g^2 = {vec(b['G'])} + {vec(g * g)} = {vec(a['G'])}",
            rf"u = -\frac{{\eta\, g}}{{\sqrt{{G}}+\epsilon}} = -\frac{{{eta} \cdot {vec(g)}}}"
            rf"{{{vec(np.sqrt(a['G']))}}} = {vec(u)}",
        ]
    if s.name == "rmsprop":
        return [
            rf"s = \rho s + (1-\rho) g^2 = {num(s.rho)} \cdot {vec(b['s'])} + "
            rf"{num(1 - s.rho)} \cdot {vec(g * g)} = {vec(a['s'])}",
            rf"u = -\frac{{\eta\, g}}{{\sqrt{{s}}+\epsilon}} = -\frac{{{eta} \cdot {vec(g)}}}"
            rf"{{{vec(np.sqrt(a['s']))}}} = {vec(u)}",
        ]
    c1 = 1 - s.beta1**n.t if s.bias_correction else 1.0
    c2 = 1 - s.beta2**n.t if s.bias_correction else 1.0
    mhat, vhat = a["m"] / c1, a["v"] / c2
    return [
        rf"m = \beta_1 m + (1-\beta_1) g = {num(s.beta1)} {vec(b['m'])} + {num(1 - s.beta1)} "
        rf"{vec(g)} = {vec(a['m'])}",
        rf"v = \beta_2 v + (1-\beta_2) g^2 = {num(s.beta2)} {vec(b['v'])} + {num(1 - s.beta2)} "
        rf"{vec(g * g)} = {vec(a['v'])}",
        (
            rf"\hat m = \frac{{m}}{{1-\beta_1^{{{n.t}}}}} = {vec(mhat)},\ "
            rf"\hat v = \frac{{v}}{{1-\beta_2^{{{n.t}}}}} = {vec(vhat)}"
            if s.bias_correction
            else r"\text{no bias correction: } \hat m = m,\ \hat v = v"
        ),
        rf"u = -\frac{{\eta\, \hat m}}{{\sqrt{{\hat v}}+\epsilon}} = {vec(u)}",
    ]


def step_formulas(r: Race, paths: dict, follow: int) -> None:
    """Each optimizer's update at the followed step, with its numbers."""
    with st.expander(f"Step {max(follow, 1)} of each optimizer, with its numbers"):
        shown = False
        for s in r.settings:
            p = paths[s.label]
            t = min(max(follow, 1), len(p.updates))
            if t == 0:
                st.markdown(f"**{s.label}** took no step before it diverged.")
                continue
            st.markdown(
                f"**{s.label}**, step {t}: at p = ({nice(p.xy[t - 1, 0])}, {nice(p.xy[t - 1, 1])}) "
                f"the gradient g = ({nice(p.grad[t - 1, 0])}, {nice(p.grad[t - 1, 1])})"
                + (" (noise included)" if r.noise else "")
                + "; η = "
                + eta_text(s.eta)
            )
            for line in step_latex(s, step_numbers(p, s, t)):
                st.latex(line)
            shown = True
        if not shown:
            st.markdown("Choose at least one optimizer above.")


def adaptive_rates(r: Race, paths: dict) -> None:
    """The effective rate of each coordinate along each adaptive optimizer's path."""
    chosen = [s for s in r.settings if s.name in ADAPTIVE and len(paths[s.label].states)]
    if not chosen:
        st.caption(
            "Choose Adagrad, RMSProp or Adam above to see how they set each coordinate's rate."
        )
        return
    frames, sentences = [], []
    for s in chosen:
        tr = rate_trace(paths[s.label], s)
        steps = np.arange(1, len(tr) + 1)
        for axis, col in (("x", 0), ("y", 1)):
            frames.append(
                pd.DataFrame(
                    {"step": steps, "rate": tr[:, col], "optimizer": s.label, "coordinate": axis}
                )
            )
        sentences.append(trace_sentence(s.label, tr))
    show_chart(
        line_chart(
            pd.concat(frames, ignore_index=True),
            x="step",
            y="rate",
            color="optimizer",
            color_title="optimizer",
            dash="coordinate",
            log_y=True,
            y_powers="auto",
            x_integer=True,
            title="Each coordinate's effective learning rate η / (√(accumulated g²) + ε)",
            x_title="step",
            y_title="effective rate (log scale)",
            height=280,
        ),
        "Adagrad adds up every squared gradient, so its rates can only fall; RMSProp and Adam "
        "average recent ones, so a rate comes back up once the gradients shrink. "
        + " ".join(sentences),
    )


@st.fragment
def surface_section() -> None:
    r, follow = race_controls()
    if not r.settings:
        st.info("Choose at least one optimizer to draw its path.")
        return
    paths, summaries = surface_race(r)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        surface_chart(r, paths, follow)
    with right:
        loss_chart(r, paths, follow)
    st.markdown("\n".join(f"- {f}" for f in race_findings(summaries, r.steps, r.noise)))
    step_formulas(r, paths, follow)
    adaptive_rates(r, paths)


surface_section()


# --- 2. theory on the quadratic ---------------------------------------------------------------
st.header("2. Theory beside the measurement: the quadratic valley")
st.markdown(
    "On the quadratic f = ½ pᵀAp everything is known in closed form (Goh, *Why momentum really "
    "works*, 2017). The eigenvalues λ_min and λ_max of A are the valley's curvature along and "
    "across; their ratio κ is the condition number. Gradient descent must keep η below "
    "2 / λ_max or the steep direction blows up, and then the shallow direction crawls."
)


def distance_frame(run) -> pd.DataFrame:
    """Distance to the minimum per step for both paths, with theory's d0 * rate^k beside."""
    frames = []
    for name, p, rate in (
        ("gradient descent", run.gd, run.rates.gd_rate),
        ("momentum", run.momentum, run.rates.momentum_rate),
    ):
        k = np.arange(len(p.xy))
        # a path that lands exactly on the minimum (kappa = 1) is drawn down to the floor
        d = np.maximum(np.hypot(p.xy[:, 0], p.xy[:, 1]), FLOOR)
        frames.append(pd.DataFrame({"step": k, "distance": d, "run": name, "kind": "measured"}))
        frames.append(
            pd.DataFrame(
                {
                    "step": k,
                    "distance": np.maximum(d[0] * rate**k, FLOOR),
                    "run": name,
                    "kind": "theory: d₀ rateᵏ",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def theory_numbers(run) -> None:
    """The two rates with the live numbers, and what the paths measured."""
    r = run.rates
    k = num(r.kappa)
    st.markdown("**Gradient descent** at its best η:")
    st.latex(rf"\eta = \frac{{2}}{{\lambda_{{min}}+\lambda_{{max}}}} = {num(r.gd_eta)}")
    st.latex(
        rf"\text{{rate}} = \frac{{\kappa-1}}{{\kappa+1}} = \frac{{{k}-1}}{{{k}+1}} = "
        rf"{num(r.gd_rate)}"
    )
    st.markdown("**Momentum** at its best η and β:")
    st.latex(
        rf"\eta = {num(r.momentum_eta)},\quad \beta = \text{{rate}}^2 = {num(r.momentum_beta)}"
    )
    st.latex(
        rf"\text{{rate}} = \frac{{\sqrt{{\kappa}}-1}}{{\sqrt{{\kappa}}+1}} = "
        rf"\frac{{{num(r.kappa**0.5)}-1}}{{{num(r.kappa**0.5)}+1}} = {num(r.momentum_rate)}"
    )
    st.markdown(theory_sentence(run))


def scan_chart(scan) -> None:
    """Final distance over starting distance against eta, with both stability limits."""
    df = pd.concat(
        [
            pd.DataFrame({"η": scan.etas, "ratio": scan.gd, "run": "gradient descent"}),
            pd.DataFrame({"η": scan.etas, "ratio": scan.momentum, "run": "momentum"}),
        ],
        ignore_index=True,
    )
    df = df.assign(ratio=df["ratio"].clip(upper=OVERFLOW_DRAWN))
    show_chart(
        layered(
            line_chart(
                df,
                x="η",
                y="ratio",
                color="run",
                color_title="optimizer",
                log_x=True,
                log_y=True,
                y_powers=True,
                points=True,
                x_domain=(float(scan.etas[0]), float(scan.etas[-1])),
                title=f"Distance after {scan.steps} steps ÷ distance at the start, against η "
                f"(β = {scan.beta:g})",
                x_title="learning rate η (log scale)",
                y_title="d_end / d_start (log scale)",
            ),
            hline(1.0, "as far as at the start"),
            vline(scan.limit_gd, f"2/λ_max = {nice(scan.limit_gd)}"),
            vline(
                scan.limit_momentum,
                f"2(1+β)/λ_max = {nice(scan.limit_momentum)}",
                label_at="bottom",
            ),
        ),
        scan_sentence(scan),
    )


OVERFLOW_DRAWN = 1e6  # runs that grew beyond this (or overflowed) are drawn here


@st.fragment
def theory_section() -> None:
    c1, c2, _ = st.columns([1, 1, 2])
    with c1:
        kappa = widgets.stepped("Condition number κ", "kappa_t", KAPPAS, 50)
    with c2:
        beta = widgets.stepped("β for the scan", "beta_t", BETAS, 0.9)
    run, scan = quadratic_theory(float(kappa), float(beta))
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            line_chart(
                distance_frame(run),
                x="step",
                y="distance",
                color="run",
                color_title="optimizer",
                dash="kind",
                log_y=True,
                y_powers="auto",
                x_integer=True,
                title="Distance to the minimum at the optimal settings",
                x_title="step",
                y_title="|p − p*| (log scale)",
            ),
            "Solid: the path; dashed: theory's straight line d₀·rateᵏ. A steeper line is a "
            "faster method: gradient descent's rate depends on κ, momentum's only on √κ."
            + (
                f" At κ = 1 both land on the minimum in one step; the lines drop to "
                f"{nice(FLOOR)}, the floor of this axis."
                if kappa == 1
                else ""
            ),
        )
    with right:
        theory_numbers(run)
    scan_chart(scan)


theory_section()


# --- 3. Adam's step ---------------------------------------------------------------------------
st.header("3. Adam's step: bias correction and the scale of the gradient")
st.markdown(
    "Adam keeps running averages m of g and v of g², both starting at 0, so in the first steps "
    "they are too small. Bias correction divides them by 1 − β₁ᵗ and 1 − β₂ᵗ. The step "
    "m̂ / √v̂ is a ratio of a gradient to a gradient's size: multiply the cost by 1,000 and "
    "it does not change."
)


def first_steps_caption(steps: dict, beta1: float, beta2: float) -> str:
    """What the two first-step curves show, from their numbers."""
    with_bc, without = steps["with bias correction"], steps["without bias correction"]
    peak = int(np.argmax(without))
    first = (1 - beta1) / np.sqrt(1 - beta2)
    text = (
        f"With bias correction every step is **{nice(with_bc[0])}** η, from the first. "
        f"Without it the first step is (1 − β₁) / √(1 − β₂) = {nice(first)} η"
    )
    if without[peak] > without[0] * 1.01 and peak < len(without) - 1:
        text += f", and the steps grow to **{nice(without[peak])}** η at step {peak + 1}"
        return text + f"; after {len(without)} steps they are {nice(without[-1])} η."
    if without[-1] > without[0] * 1.01:
        return (
            text
            + f", and the steps are still growing: {nice(without[-1])} η at step {len(without)}."
        )
    return text + f"; after {len(without)} steps they are {nice(without[-1])} η."


def scale_table(checks: dict) -> None:
    """Adam and SGD on f and on 1000 f, surface by surface."""
    rows = []
    for name, by_opt in checks.items():
        adam, sgd = by_opt["adam"], by_opt["sgd"]
        rows.append(
            {
                "surface": SURFACE_LABELS[name].split(":")[0],
                "Adam: paths differ by": nice(adam.max_difference),
                "SGD, same η": (
                    f"diverged at step {sgd.diverged_at}"
                    if sgd.diverged_at is not None
                    else f"paths differ by up to {nice(sgd.max_difference)}"
                ),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def scale_caption(checks: dict) -> str:
    """Whether Adam's two paths agreed on every surface, from the measured differences."""
    apart = {
        n: c["adam"].max_difference
        for n, c in checks.items()
        if c["adam"].max_difference > SAME_PATH
    }
    text = "Plain SGD's step is η g, 1,000 times larger on 1000 f, so the same η overshoots. "
    if not apart:
        worst = max(c["adam"].max_difference for c in checks.values())
        return text + f"Adam's paths on f and on 1000 f agree to within {nice(worst)} everywhere."
    where = ", ".join(f"{SURFACE_LABELS[n].split(':')[0]} ({nice(d)})" for n, d in apart.items())
    return text + (
        f"Adam's paths agree to within {nice(SAME_PATH)} except on: {where}. The one term "
        "that does change is ε in √v̂ + ε, which weighs 1,000 times less on 1000 f; on these "
        "paths that small difference grew over the steps."
    )


@st.fragment
def adam_section() -> None:
    c1, c2, _ = st.columns([1, 1, 2])
    with c1:
        beta1 = widgets.stepped("β₁", "a_beta1", BETA1S, 0.9)
    with c2:
        beta2 = widgets.stepped("β₂", "a_beta2", BETA2S, 0.999)
    steps, checks = adam_checks(float(beta1), float(beta2))
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            line_chart(
                curves_frame(
                    np.arange(1, len(steps["with bias correction"]) + 1), steps, x_name="t"
                ).rename(columns={"curve": "Adam"}),
                x="t",
                y="value",
                color="Adam",
                color_title="Adam",
                log_y=True,
                y_powers="auto",
                x_integer=True,
                points=True,
                title="Size of Adam's step for a constant gradient",
                x_title="step t",
                y_title="|u| / η (log scale)",
            ),
            first_steps_caption(steps, beta1, beta2),
        )
    with right:
        st.markdown(
            f"**Scale.** Each surface's run of {checks['quadratic']['adam'].steps} steps from its "
            "start, at its suggested learning rate, repeated on the same surface multiplied by "
            f"{checks['quadratic']['adam'].factor:,.0f}:"
        )
        scale_table(checks)
        st.caption(scale_caption(checks))


adam_section()


# --- 4. on MNIST ------------------------------------------------------------------------------
st.header("4. On real digits")
st.markdown(
    "The same deep sigmoid network as on the "
    + link("vanishing-gradients", "vanishing-gradient page")
    + ", trained once per optimizer from the same initial weights on the same mini-batches. "
    "There, plain SGD's gradient shrank on its way back, so the first hidden layer learned "
    "slowest. An adaptive method divides each weight's step by the size of that weight's own "
    "gradients, so a small gradient no longer means a small step."
)
LAYER_CHOICES = (2, 3, 4)
N_TRAIN_CHOICES = (1000, 2000, 4000)
EPOCH_CHOICES = (5, 10, 15, 20)
RACE_DEFAULT = RaceSetup()


def mnist_controls() -> RaceSetup | None:
    names = widgets.pills(
        "Optimizers", "m_opt", tuple(DEFAULT_ETAS), RACE_DEFAULT.optimizers, LABELS
    )
    c2, c3, c4, _ = st.columns([1, 1, 1, 1])
    with c2:
        layers = widgets.stepped("Hidden layers of 30", "m_layers", LAYER_CHOICES, 3)
    with c3:
        n_train = widgets.stepped(
            "Training digits", "m_n", N_TRAIN_CHOICES, 2000, format_func="{:,}".format
        )
    with c4:
        epochs = widgets.stepped("Epochs", "m_epochs", EPOCH_CHOICES, 10)
    with st.expander("Learning rates"):
        st.caption(
            "Mini-batches of 10. The defaults give momentum and Nesterov the same effective "
            "step η / (1 − β) as SGD (β = 0.9), and RMSProp and Adam their authors' η; "
            "ρ = 0.9, β₁ = 0.9, β₂ = 0.999, with bias correction."
        )
        cols = st.columns(len(DEFAULT_ETAS))
        etas = {}
        for col, name in zip(cols, DEFAULT_ETAS):
            with col:
                etas[name] = widgets.stepped(
                    f"η {LABELS[name]}", f"m_eta_{name}", ETA_CHOICES[name], DEFAULT_ETAS[name],
                    format_func=eta_text,
                )  # fmt: skip
    if not names:
        return None
    return RaceSetup(
        tuple(names), tuple(etas[n] for n in names), int(layers), int(n_train), int(epochs),
        seed=seed,
    )  # fmt: skip


def gap_frame(names, results) -> pd.DataFrame:
    """Columns epoch, gap, optimizer: last hidden layer's update ratio over the first's."""
    frames = []
    for name, res in zip(names, results):
        g = layer_gap(res.history, res.diverged_at)
        frames.append(pd.DataFrame({"epoch": g.epochs, "gap": g.ratio, "optimizer": LABELS[name]}))
    return pd.concat(frames, ignore_index=True)


def update_frame(names, results) -> pd.DataFrame:
    """Columns epoch, layer, value, optimizer: each hidden layer's ||ΔW|| / ||W|| per epoch."""
    frames = []
    for name, res in zip(names, results):
        h = res.history
        if len(h.epoch) < 2:
            continue
        frames.append(layers_frame(h.epoch[1:], h.update_ratio[1:, :-1], optimizer=LABELS[name]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def race_charts(setup, results) -> None:
    names = setup.optimizers
    by_label = {LABELS[n]: r for n, r in zip(names, results)}
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            accuracy_curves(by_label, legend="optimizer", title="Validation accuracy per epoch"),
            "Every optimizer starts from the same network (epoch 0) and sees the same "
            "mini-batches; only the rule that turns gradients into steps differs.",
        )
    with right:
        cost = history_frame(by_label, "eval_cost").rename(columns={"run": "optimizer"})
        rose = [
            LABELS[n]
            for n, r in zip(names, results)
            if len(r.history.eval_cost) > 1 and r.history.eval_cost[-1] > r.history.eval_cost[0]
        ]
        show_chart(
            line_chart(
                cost,
                x="epoch",
                y="value",
                color="optimizer",
                color_title="optimizer",
                points=True,
                x_integer=True,
                title="Validation cost per epoch",
                x_title="epoch",
                y_title="cross-entropy cost",
            ),
            "Cross-entropy on the validation digits: it rewards being less wrong, so it can "
            "fall while the accuracy stands still. "
            + (
                f"{names(rose)} ended with a higher cost than it started with."
                if rose
                else "Every run ended with a lower cost than it started with."
            ),
        )
    gaps = gap_frame(names, results)
    show_chart(
        layered(
            line_chart(
                gaps,
                x="epoch",
                y="gap",
                color="optimizer",
                color_title="optimizer",
                points=True,
                x_integer=True,
                log_y=True,
                y_powers="auto",
                title=f"How much further the last hidden layer's weights move than the first's "
                f"(layer {setup.hidden_layers} ÷ layer 1)",
                x_title="epoch",
                y_title="ratio of ‖ΔW‖ / ‖W‖ (log scale)",
            ),
            hline(1.0, "equal"),
        ),
        "Above the dashed line the last hidden layer's weights moved further, relative to "
        "their size, than the first layer's during that epoch; below it the first moved "
        "further. Each point compares the two layers' ‖ΔW‖ / ‖W‖, the size of one update "
        "relative to the weights, averaged over the epoch's last few steps.",
    )
    per_layer = update_frame(names, results)
    if len(per_layer):
        show_chart(
            per_optimizer_panels(per_layer),
            "One panel per optimizer, one line per hidden layer, on one log axis: where a "
            "layer's line sits lower, its weights moved less, relative to their size. The "
            "sentences below compare the first and the last hidden layer, optimizer by "
            "optimizer.",
        )


@st.fragment
def mnist_section() -> None:
    setup = mnist_controls()
    if setup is None:
        st.info("Choose at least one optimizer to train.")
        return
    n = len(setup.optimizers)
    results = mnist_runs(setup.experiments(), f"Training {plural(n, 'network')}")
    race_charts(setup, results)
    rows = race_table(setup.optimizers, results)
    gaps = [(n, layer_gap(r.history, r.diverged_at)) for n, r in zip(setup.optimizers, results)]
    st.markdown("**The gap, optimizer by optimizer.** " + gap_overview(gaps))
    st.markdown(
        "\n".join(
            f"- {gap_sentence(name, gap)}" + stuck_note(row) for (name, gap), row in zip(gaps, rows)
        )
    )
    st.markdown("**The race.** " + race_summary(rows))
    race_dataframe(rows)


def stuck_note(row) -> str:
    """A run that never learned: its update sizes describe a network stuck near chance."""
    if row.learned or row.diverged_at is not None or not np.isfinite(row.best_accuracy):
        return ""
    return (
        f" This run did not learn (best validation accuracy {100 * row.best_accuracy:.1f}%), "
        "so these are the updates of a network stuck near chance."
    )


def race_dataframe(rows) -> None:
    table = pd.DataFrame(
        {
            "optimizer": [r.label for r in rows],
            "final accuracy": [pct_text(r.final_accuracy) for r in rows],
            "best accuracy": [pct_text(r.best_accuracy) for r in rows],
            "best at epoch": [r.best_epoch if r.best_epoch is not None else "–" for r in rows],
            (
                f"epochs to {100 * rows[0].target:.0f}%"
                if rows[0].target is not None
                else "epochs to target"
            ): [r.epochs_to_target if r.epochs_to_target is not None else "never" for r in rows],
            "diverged": [str(r.diverged_at) if r.diverged_at else "no" for r in rows],
        }
    ).astype(str)
    st.dataframe(table, hide_index=True, width="stretch")


def pct_text(v: float) -> str:
    return f"{100 * v:.1f}%" if np.isfinite(v) else "–"


mnist_section()
