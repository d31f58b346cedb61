"""Home: what the site teaches, the map from problems to fixes, and the sigma' teaser."""

import numpy as np
import streamlit as st

from charts.figures import sigmoid_marker
from explain.neuron import AT_MAXIMUM, below_max
from explain.nn.activations import sigmoid, sigmoid_prime
from explain.nn.datasets import SPLIT_SIZES
from ui import widgets
from ui.display import show_chart
from ui.format import nice, num
from ui.site import page_by_url, page_url

PROBLEMS = [
    # (problem, why it happens, fix, pages' url paths)
    (
        "A neuron learns slowest when it is most wrong",
        "the quadratic cost's gradient carries a factor σ′(z), tiny when the neuron saturates",
        "cross-entropy cost, or softmax with log-likelihood",
        ("learning-slowdown", "cross-entropy"),
    ),
    (
        "Early layers barely learn; sometimes gradients blow up",
        "backpropagation multiplies one factor w·σ′(z) per layer",
        "better activations, initialization and normalization",
        ("vanishing-gradients", "batch-norm"),
    ),
    (
        "Saturating and non-zero-centred activations",
        "σ′(z) ≤ 1/4, and all-positive inputs force zig-zag updates",
        "tanh, ReLU and leaky ReLU; zero-centred data",
        ("activations",),
    ),
    (
        "Signals collapse to zero or saturate at initialization",
        "Var(z) = nᵢₙ · Var(w) · E[x²] grows or shrinks layer by layer",
        "Xavier and He initialization",
        ("weight-initialization",),
    ),
    (
        "Gradient descent zig-zags, stalls at saddles and never settles",
        "one learning rate for every direction; the gradient vanishes at a saddle point; "
        "mini-batch gradients are noisy",
        "momentum, Nesterov, Adagrad, RMSProp, Adam",
        ("optimizers",),
    ),
    (
        "Training overshoots, crawls, or stops improving",
        "a step of η λ_max > 2 grows the error; a small η crawls; a constant η keeps "
        "mini-batch noise alive",
        "a rate from a scan or range test, then a decaying schedule",
        ("learning-rate",),
    ),
    (
        "The network does well on its training data and worse on new data",
        "it has learned the noise of its training set",
        "L2, L1, dropout, early stopping; more data",
        ("regularization",),
    ),
    (
        "Not sure which of these holds your network back",
        "several problems can look alike from the accuracy alone",
        "train it in the lab and read the diagnosis",
        ("training-lab",),
    ),
]

st.title("Why are deep networks hard to train?")
st.markdown(
    "An explorable explanation for students working through the subject on their own, for "
    "lecturers who project it in class, and for anyone curious. Every chart is computed live by "
    "a small NumPy network engine with backpropagation by hand: change a number and watch."
)


def factor_sentence(sp: float) -> str:
    """What multiplying by sigma'(z) does, in words chosen by how far below 1/4 it is."""
    below = below_max(sp)
    if below < AT_MAXIMUM:
        return (
            f"Every gradient that passes through this neuron is multiplied by **{nice(sp)}**: "
            "σ′ is at its maximum of 1/4 here, the most a sigmoid can pass on. Even so, a deep "
            "network multiplies one such factor per layer."
        )
    return (
        f"Every gradient that passes through this neuron is multiplied by **{nice(sp)}**: "
        f"**{nice(below)}×** smaller than at z = 0, where σ′ reaches its maximum of 1/4. "
        "A deep network multiplies one such factor per layer."
    )


@st.fragment
def sigma_prime_teaser():
    """The σ′ teaser; owns the z slider."""
    st.subheader("The factor behind most of the trouble: σ′(z)")
    left, right = st.columns([3, 2], gap="large")
    with right:
        z0 = widgets.slider("Mark the neuron's weighted input z", "z", -10.0, 10.0, 2.0, step=0.1)
        s0, sp0 = float(sigmoid(z0)), float(sigmoid_prime(z0))
        # the thin space after an aligned block: KaTeX draws it 2 px past the box it reserves
        st.latex(
            rf"""\begin{{aligned}}
            \sigma'(z) &= \sigma(z)\,\bigl(1-\sigma(z)\bigr)\\
            \sigma'({z0:.1f}) &= {num(s0)} \times {num(1 - s0)}\\
            &= {num(sp0)}
            \end{{aligned}}\,"""
        )
        st.markdown(factor_sentence(sp0))
    with left:
        z = np.linspace(-10, 10, 401)
        chart = sigmoid_marker(
            z,
            sigmoid(z),
            sigmoid_prime(z),
            z0,
            s0,
            sp0,
            labels=(nice(s0), nice(sp0)),
            title="The sigmoid and its derivative",
            max_line=True,
        )
        show_chart(
            chart,
            "Look at σ′(z): it is never above 1/4, and it is almost 0 once |z| > 5, where σ is "
            "flat. Move the slider to see how small the factor gets.",
        )


sigma_prime_teaser()

st.subheader("The problems, their causes, and the fixes")
rows = ["| problem | why | fix | pages |", "|---|---|---|---|"]
for problem, why, fix, urls in PROBLEMS:
    pages = [(url, page_by_url(url)) for url in urls]
    links = [f"[{p.title}]({page_url(url)})" for url, p in pages if p is not None]
    rows.append(f"| {problem} | {why} | {fix} | {', '.join(links) or 'in a later release'} |")
st.markdown("\n".join(rows))

st.subheader("Using it in class")
st.markdown(
    "- **Deep links.** Every control is stored in the page address: set up a figure, copy the "
    "URL, and the same link opens the same figure on any machine, e.g. "
    f"`{page_url('')}?z=-6` for this page.\n"
    "- **Fixed seeds.** Every random draw comes from a seed shown on the page; the same seed "
    "gives the same network and the same curves, so a projected figure can be reproduced.\n"
    f"- **Offline.** The site needs no network connection: the {sum(SPLIT_SIZES.values()):,} "
    "MNIST digits it trains on ship with it."
)
