"""The unstable gradient problem (Nielsen, chapter 5): vanishing and exploding gradients.

Three views of the same product. In a chain of single sigmoid neurons

    dC/db_1 = sigma'(z_1) w_2 sigma'(z_2) w_3 ... w_L sigma'(z_L) dC/da_L,

and since sigma' <= 1/4, every factor w_j sigma'(z_j) is below 1/4 when |w_j| < 1. In a
real network the factors become matrices, delta^l = Sigma'(z^l) (W^{l+1})^T delta^{l+1},
and on MNIST the hidden layers' gradient norms grow from the first to the last.

Magnitudes are kept as log10 so that 25^29 or 10^-300 are shown exactly; where the
ordinary float64 product would overflow or underflow, the layer is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.nn.activations import sigmoid, sigmoid_prime
from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params

# Nielsen's chapter 5: ||delta^l|| of each hidden layer at initialization, and accuracy.
BOOK_INIT_NORMS: dict[int, tuple[float, ...]] = {
    2: (0.07, 0.31),
    3: (0.012, 0.060, 0.283),
    4: (0.003, 0.017, 0.070, 0.285),
}
BOOK_ACCURACY: dict[int, float] = {1: 96.48, 2: 96.90, 3: 96.57, 4: 96.53}


# --- 1. a chain of single neurons ---------------------------------------------------------


@dataclass(frozen=True)
class ChainSetup:
    """A chain a_0 -> a_1 -> ... -> a_L of single sigmoid neurons."""

    depth: int = 4
    weights: str = "normal"  # "normal": N(0, 1) as in the book; "fixed": every w = w_fixed
    w_fixed: float = 1.0
    biases: str = "normal"  # "normal": N(0, 1); "zero"; "centred": b_j = -w_j a_{j-1}, so z_j = 0
    a0: float = 1.0
    y: float = 0.0  # target; C = (a_L - y)^2 / 2
    seed: int = 0


class Chain(NamedTuple):
    """Per layer j = 1..L (arrays of length L)."""

    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    sigma_prime: np.ndarray
    factor: np.ndarray  # w_{j+1} sigma'(z_j) for j < L, and sigma'(z_L) dC/da_L for j = L
    log10_grad: np.ndarray  # log10 |dC/db_j|, exact even where float64 would fail
    sign: np.ndarray  # sign of dC/db_j
    grad: np.ndarray  # dC/db_j as the float64 product (may be 0 or inf)
    float_fails_at: int | None  # first layer (1-based, from the output back) where it fails
    dC_daL: float


def chain_gradients(setup: ChainSetup) -> Chain:
    """Forward through the chain, then dC/db_j as the product of its factors."""
    rng = np.random.default_rng(setup.seed)
    L = setup.depth
    w = rng.normal(0.0, 1.0, L) if setup.weights == "normal" else np.full(L, setup.w_fixed)
    b_draw = rng.normal(0.0, 1.0, L)
    z, a, b = np.empty(L), np.empty(L), np.empty(L)
    prev = setup.a0
    for j in range(L):
        b[j] = {"normal": b_draw[j], "zero": 0.0, "centred": -w[j] * prev}[setup.biases]
        z[j] = w[j] * prev + b[j]
        a[j] = prev = sigmoid(z[j])
    sp = sigmoid_prime(z)
    dC_daL = a[-1] - setup.y
    factor = np.append(w[1:] * sp[:-1], sp[-1] * dC_daL)
    return _chain_product(w, b, z, a, sp, factor, dC_daL)


def _chain_product(w, b, z, a, sp, factor, dC_daL) -> Chain:
    """dC/db_j = prod_{k >= j} factor_k, in log space and in float64."""
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        logs = np.log10(np.abs(factor))
        log10_grad = np.cumsum(logs[::-1])[::-1]
        sign = np.cumprod(np.sign(factor)[::-1])[::-1]
        grad = np.cumprod(factor[::-1])[::-1]
    broken = ~np.isfinite(grad) | ((grad == 0) & (sign != 0))
    fails = [j + 1 for j in range(len(grad) - 1, -1, -1) if broken[j]]
    return Chain(
        w, b, z, a, sp, factor, log10_grad, sign, grad, fails[0] if fails else None, dC_daL
    )


def backprop_chain(chain: Chain) -> np.ndarray:
    """dC/db_j by ordinary backpropagation through the chain (BP1-BP2 for one neuron per layer)."""
    delta = np.empty_like(chain.z)
    delta[-1] = chain.dC_daL * chain.sigma_prime[-1]
    for j in range(len(delta) - 2, -1, -1):
        delta[j] = delta[j + 1] * chain.w[j + 1] * chain.sigma_prime[j]
    return delta


def random_chain_ratios(depth_gap: int = 2, n: int = 20_000, *, rng: np.random.Generator):
    """|dC/db_j| / |dC/db_{j+gap}| for random N(0,1) weights and biases, inputs in (0, 1)."""
    w = rng.normal(0.0, 1.0, (n, depth_gap))
    b = rng.normal(0.0, 1.0, (n, depth_gap))
    a_prev = rng.uniform(0.0, 1.0, (n, depth_gap))
    return np.prod(np.abs(w * sigmoid_prime(w * a_prev + b)), axis=1)


# --- prevalence: how narrow the escape from vanishing is -------------------------------------


def escape_width(w: np.ndarray) -> np.ndarray:
    """Width of the set of inputs a with |w sigma'(w a + b)| >= 1 (any b shifts, not widens it).

    sigma'(z) >= 1/|w| holds for |z| <= z*, where sigma(z*) = (1 + sqrt(1 - 4/|w|)) / 2;
    in a that is an interval of width 2 z* / |w|. Empty for |w| < 4.
    """
    w = np.abs(np.asarray(w, dtype=float))
    out = np.zeros_like(w)
    ok = w > 4.0
    s = (1.0 + np.sqrt(1.0 - 4.0 / w[ok])) / 2.0
    out[ok] = 2.0 * np.log(s / (1.0 - s)) / w[ok]
    return out


def escape_width_numeric(w: float, b: float, a: np.ndarray) -> float:
    """The same width measured on a fine grid of a (a check of ``escape_width``)."""
    inside = np.abs(w * sigmoid_prime(w * a + b)) >= 1.0
    return float(inside.sum() * (a[1] - a[0])) if inside.any() else 0.0


# --- 2. real networks on MNIST ------------------------------------------------------------------


def hidden_spec(n_hidden: int, activation: str = "sigmoid", weight_init: str = "scaled"):
    """Nielsen's chapter-5 networks: [784, 30 x n_hidden, 10], cross-entropy, N(0,1) biases."""
    return NetworkSpec(
        (784, *(30,) * n_hidden, 10),
        activation,
        "cross_entropy",
        weight_init=weight_init,
        bias_init="normal",
    )


class InitGradients(NamedTuple):
    """At initialization, averaged over the probe images."""

    db: tuple[np.ndarray, ...]  # dC/db^l of each hidden layer
    norms: np.ndarray  # ||dC/db^l|| of each hidden layer


def init_gradients(spec: NetworkSpec, seed: int, n_images: int = 1000) -> InitGradients:
    """dC/db of every hidden layer of a fresh network, over the first ``n_images`` digits."""
    probe = load_mnist().train.take(n_images)
    params = init_params(spec, rng=np.random.default_rng(seed))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        grads = backward(spec, params, forward(spec, params, probe.x), probe.y)
    db = grads.db[:-1]
    return InitGradients(db, np.array([np.linalg.norm(g) for g in db]))


def init_norms_over_seeds(spec: NetworkSpec, seeds: range, n_images: int = 1000) -> np.ndarray:
    """(len(seeds), n_hidden) gradient norms at initialization, one row per seed."""
    return np.array([init_gradients(spec, s, n_images).norms for s in seeds])


def jacobian_norms(spec: NetworkSpec, params: Params, x: np.ndarray) -> np.ndarray:
    """For each hidden layer l, the spectral norm of the backward map delta^{l+1} -> delta^l,
    (W^{l+1})^T then times sigma'(z^l), averaged over the images in x: (n_hidden,)."""
    fwd = forward(spec, params, x)
    prime = spec.hidden.prime
    norms = []
    for l in range(spec.n_layers - 1):
        sp = prime(fwd.zs[l])  # (N, n_l)
        maps = params.W[l + 1][None, :, :] * sp[:, :, None]  # (N, n_l, n_{l+1})
        norms.append(np.linalg.norm(maps, ord=2, axis=(1, 2)).mean())
    return np.array(norms)


def backward_shrinkage(spec: NetworkSpec, params: Params, data) -> float:
    """Median over digits of ||delta^1|| / ||delta^L||: how much of the output error actually
    reaches the first hidden layer (the product of spectral norms only bounds it)."""
    grads = backward(spec, params, forward(spec, params, data.x), data.y)
    first = np.linalg.norm(grads.deltas[0], axis=1)
    last = np.linalg.norm(grads.deltas[-1], axis=1)
    ok = last > 0
    return float(np.median(first[ok] / last[ok])) if ok.any() else float("nan")


def book_lmbda(n_train: int, lmbda: float = 5.0, book_n: int = 50_000) -> float:
    """The L2 strength that gives the book's weight decay per step (eta lmbda / n) on n_train."""
    return lmbda * n_train / book_n


def _book_networks(hidden: tuple[int, ...], activation: str, weight_init: str, seed: int, **train):
    """Nielsen's chapter-5 networks [784, 30 x k, 10] for each k in ``hidden``, eta 0.1."""
    from explain.experiments import MnistExperiment

    return [
        MnistExperiment(
            sizes=(784, *(30,) * k, 10),
            activation=activation,
            weight_init=weight_init,
            eta=0.1,
            seed=seed,
            **train,
        )
        for k in hidden
    ]


def speed_of_learning_experiments(
    activation: str = "sigmoid", weight_init: str = "scaled", epochs: int = 500, seed: int = 0
) -> list:
    """The book's protocol for 2, 3 and 4 hidden layers: 1,000 digits, full batch, eta 0.1,
    lmbda 5; about 100 recorded epochs whatever the length."""
    return _book_networks(
        (2, 3, 4),
        activation,
        weight_init,
        seed,
        n_train=1000,
        batch_size=1000,
        epochs=epochs,
        lmbda=5.0,
        record_every=max(1, epochs // 100),
    )


def depth_accuracy_experiments(
    activation: str = "sigmoid",
    weight_init: str = "scaled",
    epochs: int = 30,
    seed: int = 0,
    lmbda: float | None = None,
) -> list:
    """The book's accuracy-against-depth runs (mini-batch 10, eta 0.1) for 1 to 4 hidden layers,
    on our 8,000 training digits; only the start and the end are recorded.

    The book's lmbda = 5 was for n = 50,000: weight decay per step is eta lmbda / n, so on
    8,000 digits the same decay needs lmbda = 0.8 (``book_lmbda``, the default); lmbda = 5
    here would shrink the weights 6.25 times harder per step.
    """
    return _book_networks(
        (1, 2, 3, 4),
        activation,
        weight_init,
        seed,
        n_train=8000,
        batch_size=10,
        epochs=epochs,
        lmbda=book_lmbda(8000) if lmbda is None else lmbda,
        record_every=epochs,
    )
