"""The unstable gradient problem (Nielsen, chapter 5): vanishing and exploding gradients.

Three views of the same product. In a chain of single sigmoid neurons

    dC/db_1 = sigma'(z_1) w_2 sigma'(z_2) w_3 ... w_L sigma'(z_L) dC/da_L,

and since sigma' <= 1/4, every factor w_j sigma'(z_j) is below 1/4 when |w_j| < 1. In a
real network the factors become matrices, delta^l = Sigma'(z^l) (W^{l+1})^T delta^{l+1},
and on MNIST the hidden layers' gradient norms grow from the first to the last.

Magnitudes are kept as log10 so that 25^29 or 10^-300 are shown exactly; where the
ordinary float64 product would overflow or underflow, the layer is reported.

The page's sentences are chosen by the verdicts here (``compare``, ``chain_verdict``,
``escape_summary``, ``speed_verdict``, ``depth_verdict``): vanishing, exploding or no
change (within ``SAME_WITHIN``), a chain cut by a zero factor, layers whose gradient is
exactly 0 and why, ties between depths, and networks that diverged.
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
# The book's protocols: speed of learning over 500 epochs of full-batch gradient descent on
# 1,000 digits; accuracy after 30 epochs of mini-batch SGD on 50,000 digits.
BOOK_SPEED_EPOCHS = 500
BOOK_DEPTH_EPOCHS = 30
BOOK_N_TRAIN = 50_000

# Two sizes within 10% of each other are "about the same": a verdict never calls 1.05x a
# difference worth a sentence.
SAME_WITHIN = 1.1


# --- verdicts: what a sentence may say about two measured sizes ----------------------------


class Comparison(NamedTuple):
    """A size against a reference size, as the log10 of their ratio and a verdict.

    verdict: "smaller", "larger", "same" (within ``SAME_WITHIN``), "zero" (the size is 0),
    "reference zero", or "both zero"; ``log10_ratio`` is nan unless both are nonzero.
    """

    log10_ratio: float
    verdict: str

    @property
    def ratio(self) -> float:
        """size / reference (inf or 0 where float64 cannot hold it; nan if not comparable)."""
        with np.errstate(over="ignore", under="ignore"):
            return float(10.0**self.log10_ratio)


def compare_log10(log_size: float, log_reference: float, same_within: float = SAME_WITHIN):
    """Compare two sizes given by their log10 (-inf is a size of 0); exact beyond float64."""
    zero, ref_zero = log_size == -np.inf, log_reference == -np.inf
    if zero or ref_zero:
        verdict = "both zero" if zero and ref_zero else ("zero" if zero else "reference zero")
        return Comparison(float("nan"), verdict)
    d = float(log_size - log_reference)
    if abs(d) < np.log10(same_within):
        return Comparison(d, "same")
    return Comparison(d, "smaller" if d < 0 else "larger")


def compare(size: float, reference: float, same_within: float = SAME_WITHIN) -> Comparison:
    """Compare |size| with |reference|: ratio and verdict (see ``Comparison``)."""
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs([float(size), float(reference)]))
    return compare_log10(logs[0], logs[1], same_within)


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


class ChainVerdict(NamedTuple):
    """What one chain's gradients say, for the sentences beside its chart.

    trend: "vanishing" (|dC/db_1| below |dC/db_L|), "exploding" (above it), "no change"
    (within ``SAME_WITHIN``), "cut" (a factor is exactly 0, so early gradients are 0) or
    "nothing to learn" (a_L = y: every gradient is 0).
    """

    trend: str
    first_vs_last: Comparison  # |dC/db_1| against |dC/db_L|
    above_one: int  # factors |w_{j+1} sigma'(z_j)|, j < L, above 1
    at_one: int  # ... equal to 1
    below_one: int  # ... below 1
    zero_through: int | None  # dC/db_j is exactly 0 for j = 1..zero_through
    zero_cause: str  # for "cut": "weight" (w_{j+1} = 0) or "slope" (sigma'(z_j) = 0); else ""
    float_failure: str | None  # "underflow" or "overflow" of the float64 product, or None


def chain_verdict(chain: Chain) -> ChainVerdict:
    """Classify a chain's gradients (exactly, from the logarithms)."""
    middle = np.abs(chain.factor[:-1])
    at_one = np.isclose(middle, 1.0, rtol=1e-12, atol=0.0)
    first_vs_last = compare_log10(chain.log10_grad[0], chain.log10_grad[-1])
    zeros = np.flatnonzero(chain.factor == 0)
    zero_through = int(zeros.max()) + 1 if len(zeros) else None
    cause = ""
    if chain.dC_daL == 0:
        trend, zero_through = "nothing to learn", len(chain.z)
    elif zero_through is not None:
        j = zeros.max()  # the zero factor nearest the output cuts every layer below it
        last = j == len(chain.z) - 1
        trend, cause = "cut", "weight" if not last and chain.w[j + 1] == 0 else "slope"
    else:
        trend = {"smaller": "vanishing", "larger": "exploding"}.get(
            first_vs_last.verdict, "no change"
        )
    failure = None
    if chain.float_fails_at is not None:
        failure = "underflow" if chain.grad[chain.float_fails_at - 1] == 0 else "overflow"
    return ChainVerdict(
        trend,
        first_vs_last,
        int(((middle > 1) & ~at_one).sum()),
        int(at_one.sum()),
        int(((middle < 1) & ~at_one).sum()),
        zero_through,
        cause,
        failure,
    )


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


class EscapeSummary(NamedTuple):
    """The widest escape window over a grid of |w|, and the window at the reader's w."""

    w_best: float
    width_best: float  # a share of the inputs a in (0, 1), since the window lies in a
    under_half: bool  # width_best < 1/2: under half of a's possible values
    width_yours: float | None  # None when the chain's weights are not all equal


def escape_summary(ws: np.ndarray, w_yours: float | None) -> EscapeSummary:
    """Where on the grid ``ws`` the window is widest, and how wide it is at ``w_yours``."""
    width = escape_width(ws)
    k = int(np.argmax(width))
    yours = None if w_yours is None else float(escape_width(np.array([w_yours]))[0])
    return EscapeSummary(float(ws[k]), float(width[k]), bool(width[k] < 0.5), yours)


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


class SilentLayer(NamedTuple):
    """A hidden layer whose gradient ||dC/db^l|| is exactly 0 at some recorded epochs.

    cause: "dead" (every unit has z <= 0 on every probe digit: ReLU's slope is 0), "cut"
    (a later layer passes no error back: hidden layer ``by``), "flat" (its slopes are 0
    wherever an error arrives, e.g. saturated units; "dead" is only said of ReLU) or
    "cancels" (the per-digit gradients are not all 0 but their mean is).
    """

    layer: int  # 1-based hidden layer
    from_epoch: int  # first recorded epoch of the zeros that last to the end (or of the first)
    to_the_end: bool  # the gradient stays 0 from ``from_epoch`` to the last recorded epoch
    zero_rows: int  # recorded epochs with a zero gradient
    cause: str
    by: int | None  # for "cut": the hidden layer that passes no error back


class SpeedVerdict(NamedTuple):
    """What one speed-of-learning run shows: hidden layer 1's ||delta|| against the last's."""

    last_epoch: int  # the last recorded epoch
    rows: int  # recorded epochs
    silent: tuple[SilentLayer, ...]
    end: Comparison  # at the last recorded epoch
    typical: Comparison  # geometric mean of the ratio over the epochs where both are nonzero
    rows_compared: int  # how many recorded epochs ``typical`` averages over


def _silence_cause(history, row: int, k: int, activation: str) -> tuple[str, int | None]:
    """Why hidden layer k (0-based) has no gradient at history row ``row``."""
    quiet = history.no_gradient[row] == 1.0
    top = k
    while top + 1 < len(quiet) and quiet[top + 1]:
        top += 1
    if top > k:
        return "cut", top + 1
    if not quiet[k]:
        return "cancels", None
    dead = activation == "relu" and history.dead[row, k] == 1.0
    return ("dead" if dead else "flat"), None


def silent_layers(history, activation: str) -> tuple[SilentLayer, ...]:
    """Every hidden layer whose recorded gradient norm is exactly 0 at some epoch."""
    norms, out = history.grad_norm, []
    for k in range(norms.shape[1]):
        zero = norms[:, k] == 0
        if not zero.any():
            continue
        nonzero = np.flatnonzero(~zero)
        to_end = bool(zero[-1])
        row = (nonzero[-1] + 1 if len(nonzero) else 0) if to_end else int(np.argmax(zero))
        cause, by = _silence_cause(history, row, k, activation)
        out.append(SilentLayer(k + 1, int(history.epoch[row]), to_end, int(zero.sum()), cause, by))
    return tuple(out)


def speed_verdict(history, activation: str) -> SpeedVerdict:
    """Compare the first hidden layer's speed of learning with the last's, and find silences.

    ``history`` is a ``training.History`` with at least one row and two hidden layers, of a
    network whose hidden layers use ``activation``.
    """
    first, last = history.grad_norm[:, 0], history.grad_norm[:, -1]
    both = (first > 0) & (last > 0)
    if both.any():
        mean_log = float(np.mean(np.log10(first[both]) - np.log10(last[both])))
        typical = compare_log10(mean_log, 0.0)
    else:
        typical = Comparison(float("nan"), "both zero")
    return SpeedVerdict(
        int(history.epoch[-1]),
        len(history.epoch),
        silent_layers(history, activation),
        compare(first[-1], last[-1]),
        typical,
        int(both.sum()),
    )


def accuracy_se(accuracy: float, n: int) -> float:
    """One standard error, in percentage points, of an accuracy (in %) measured on n samples."""
    p = min(max(accuracy / 100.0, 0.0), 1.0)
    return 100.0 * float(np.sqrt(p * (1.0 - p) / n))


class DepthVerdict(NamedTuple):
    """What the accuracy-against-depth runs show. Accuracies in %, differences in points.

    ``best`` holds every depth tied at the highest accuracy; networks that diverged are
    left out of every comparison. ``noise`` is two standard errors of the best accuracy on
    the validation digits: differences below it could be chance. ``deepest_gradients``
    compares the deepest network's hidden layer 1 ||delta|| with its last one's at the end.
    """

    accuracy: dict[int, float]
    best: tuple[int, ...]
    best_accuracy: float
    spread: float  # highest minus lowest
    noise: float
    deepest: int | None  # deepest network that trained
    deepest_gap: float  # best minus the deepest's accuracy
    deepest_gradients: Comparison | None
    diverged: tuple[int, ...]


def depth_verdict(results: dict, n_eval: int) -> DepthVerdict:
    """Rank the depths ({hidden layers: TrainResult}) by final validation accuracy."""
    ok = {k: r for k, r in results.items() if r.diverged_at is None and len(r.history.epoch)}
    diverged = tuple(k for k in results if k not in ok)
    acc = {k: round(100.0 * float(r.history.eval_accuracy[-1]), 9) for k, r in ok.items()}
    if not acc:
        return DepthVerdict({}, (), float("nan"), 0.0, 0.0, None, 0.0, None, diverged)
    top = max(acc.values())
    deepest = max(acc)
    norms = ok[deepest].history.grad_norm[-1]
    return DepthVerdict(
        acc,
        tuple(k for k, a in acc.items() if a == top),
        top,
        top - min(acc.values()),
        2.0 * accuracy_se(top, n_eval),
        deepest,
        top - acc[deepest],
        compare(norms[0], norms[-1]) if deepest > 1 else None,
        diverged,
    )


def book_lmbda(n_train: int, lmbda: float = 5.0, book_n: int = BOOK_N_TRAIN) -> float:
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
    activation: str = "sigmoid", weight_init: str = "scaled", epochs: int = 100, seed: int = 0
) -> list:
    """The book's protocol for 2, 3 and 4 hidden layers: 1,000 digits, full batch, eta 0.1,
    lmbda 5 (the book ran ``BOOK_SPEED_EPOCHS``); about 50 recorded epochs whatever the
    length, since recording one costs about two epochs of training."""
    return _book_networks(
        (2, 3, 4),
        activation,
        weight_init,
        seed,
        n_train=1000,
        batch_size=1000,
        epochs=epochs,
        lmbda=5.0,
        record_every=max(1, epochs // 50),
    )


def depth_accuracy_experiments(
    activation: str = "sigmoid",
    weight_init: str = "scaled",
    epochs: int = 8,
    seed: int = 0,
    lmbda: float | None = None,
) -> list:
    """The book's accuracy-against-depth runs (mini-batch 10, eta 0.1) for 1 to 4 hidden layers,
    on our 8,000 training digits (the book: ``BOOK_DEPTH_EPOCHS`` epochs on ``BOOK_N_TRAIN``);
    only the start and the end are recorded.

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
