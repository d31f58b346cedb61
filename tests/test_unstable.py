"""The claims of the vanishing-gradients page, checked on the simulation."""

import numpy as np
import pytest

from explain.experiments import MnistExperiment, run_mnist
from explain.nn.activations import sigmoid_prime
from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params
from explain.unstable import (
    ChainSetup,
    backprop_chain,
    chain_gradients,
    escape_width,
    escape_width_numeric,
    hidden_spec,
    init_gradients,
    jacobian_norms,
    random_chain_ratios,
)


@pytest.mark.parametrize(
    "setup",
    [
        ChainSetup(),
        ChainSetup(depth=7, seed=3),
        ChainSetup(depth=5, weights="fixed", w_fixed=-2.5, biases="zero"),
        ChainSetup(depth=6, weights="fixed", w_fixed=100.0, biases="centred", y=1.0),
    ],
)
def test_chain_product_matches_backpropagation(setup):
    chain = chain_gradients(setup)
    np.testing.assert_allclose(chain.grad, backprop_chain(chain), rtol=1e-12)
    # ... and the general network engine, with one neuron per layer
    spec = NetworkSpec((1,) * (setup.depth + 1), "sigmoid", "quadratic")
    params = Params(tuple(np.array([[w]]) for w in chain.w), tuple(np.array([b]) for b in chain.b))
    x, y = np.array([[setup.a0]]), np.array([[setup.y]])
    grads = backward(spec, params, forward(spec, params, x), y)
    np.testing.assert_allclose(np.concatenate(grads.db), chain.grad, rtol=1e-10)
    np.testing.assert_allclose(10**chain.log10_grad, np.abs(chain.grad), rtol=1e-9)


def test_sigma_prime_bounds_every_factor():
    for seed in range(20):
        chain = chain_gradients(ChainSetup(depth=10, seed=seed))
        assert chain.sigma_prime.max() <= 0.25
        small = np.abs(chain.w[1:]) < 1
        assert np.all(np.abs(chain.factor[:-1][small]) < 0.25)
    assert sigmoid_prime(np.array(0.0)) == 0.25


def test_exploding_construction_grows_25_fold_per_layer():
    chain = chain_gradients(ChainSetup(depth=30, weights="fixed", w_fixed=100, biases="centred"))
    np.testing.assert_allclose(chain.z, 0.0, atol=1e-12)
    np.testing.assert_allclose(chain.factor[:-1], 25.0)
    np.testing.assert_allclose(np.diff(chain.log10_grad), -np.log10(25.0))
    assert chain.float_fails_at is None  # 25^29 still fits in float64


def test_float64_failure_is_reported_where_it_happens():
    chain = chain_gradients(ChainSetup(depth=30, weights="fixed", w_fixed=100, biases="normal"))
    assert chain.float_fails_at is not None
    j = chain.float_fails_at
    assert chain.grad[j - 1] == 0 or not np.isfinite(chain.grad[j - 1])
    assert np.all(chain.grad[j:] != 0)
    assert np.isfinite(chain.log10_grad[0])  # the logarithm is still exact
    assert chain_gradients(ChainSetup()).float_fails_at is None


def test_early_layers_are_typically_16_times_slower_two_layers_back():
    r = random_chain_ratios(2, rng=np.random.default_rng(0))
    assert np.median(1 / r) > 16
    assert np.mean(r < 1 / 16) > 0.8


def test_escape_width_is_empty_below_4_and_never_wider_than_045():
    w = np.linspace(0, 100, 100_001)
    width = escape_width(w)
    assert np.all(width[w < 4] == 0)
    assert width.max() == pytest.approx(0.4477, abs=1e-3)
    assert w[np.argmax(width)] == pytest.approx(6.9, abs=0.1)
    grid = np.linspace(-3, 3, 600_001)
    for wv, b in ((6.9, -3.45), (10.0, 2.0), (25.0, -7.0), (3.0, 0.0)):
        num = escape_width_numeric(wv, b, grid)
        assert num == pytest.approx(float(escape_width(np.array([wv]))[0]), abs=1e-4)


@pytest.mark.parametrize("n_hidden", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mnist_sigmoid_gradients_grow_from_first_to_last_hidden_layer(n_hidden, seed):
    norms = init_gradients(hidden_spec(n_hidden), seed).norms
    assert np.all(np.diff(norms) > 0), norms


def test_mnist_init_norms_are_near_the_books():
    norms = np.median([init_gradients(hidden_spec(4), s).norms for s in range(5)], axis=0)
    book = np.array([0.003, 0.017, 0.070, 0.285])
    assert np.all((norms / book > 0.4) & (norms / book < 2.5))


def test_jacobian_norms_match_a_direct_svd():
    spec = hidden_spec(2)
    params = init_params(spec, rng=np.random.default_rng(0))
    x = load_mnist().train.x[:3]
    fwd = forward(spec, params, x)
    expect = []
    for l in range(2):
        per_image = [
            np.linalg.svd(
                params.W[l + 1] * spec.hidden.prime(fwd.zs[l][i])[:, None], compute_uv=False
            )[0]
            for i in range(3)
        ]
        expect.append(np.mean(per_image))
    np.testing.assert_allclose(jacobian_norms(spec, params, x), expect, rtol=1e-10)


def test_speed_of_learning_the_last_layer_learns_faster():
    exp = MnistExperiment(
        sizes=(784, 30, 30, 30, 30, 10),
        n_train=300,
        batch_size=300,
        epochs=10,
        eta=0.1,
        lmbda=5.0,
        record_every=5,
    )
    res = run_mnist(exp)
    assert list(res.history.epoch) == [0, 5, 10]
    norms = res.history.grad_norm
    assert np.all(norms[:, -1] > 10 * norms[:, 0])


def test_depth_accuracy_uses_the_books_decay_per_step_unless_told():
    from explain.unstable import book_lmbda, depth_accuracy_experiments

    assert book_lmbda(8000) == pytest.approx(0.8)
    default = depth_accuracy_experiments()
    assert [e.lmbda for e in default] == [pytest.approx(0.8)] * 4
    assert [e.sizes[1:-1] for e in default] == [(30,) * k for k in (1, 2, 3, 4)]
    assert {e.lmbda for e in depth_accuracy_experiments(lmbda=5.0)} == {5.0}


# --- verdicts: what the page may say ---------------------------------------------------------


def test_compare_says_same_within_ten_percent_and_handles_zero():
    from explain.unstable import compare, compare_log10

    assert compare(0.0016, 0.0015).verdict == "same"
    assert compare(1.0, 1.0).log10_ratio == 0.0
    assert compare(2.0, 1.0) == pytest.approx((np.log10(2.0), "larger"))
    assert compare(-1.0, 4.0).verdict == "smaller"  # sizes: signs do not matter
    assert compare(0.0, 3.0).verdict == "zero"
    assert compare(3.0, 0.0).verdict == "reference zero"
    assert compare(0.0, 0.0).verdict == "both zero"
    far = compare_log10(-1200.0, 3.0)  # beyond float64, still exact
    assert far.verdict == "smaller" and far.log10_ratio == -1203.0 and far.ratio == 0.0


@pytest.mark.parametrize(
    ("setup", "trend"),
    [
        (ChainSetup(), "vanishing"),
        (ChainSetup(depth=2), "vanishing"),
        (ChainSetup(depth=30, weights="fixed", w_fixed=100.0, biases="centred"), "exploding"),
        (ChainSetup(depth=30, weights="fixed", w_fixed=4.0, biases="centred"), "no change"),
        (ChainSetup(depth=5, weights="fixed", w_fixed=0.0), "cut"),
        (ChainSetup(depth=3, weights="fixed", w_fixed=2.0, biases="centred", y=0.5), "nothing"),
    ],
)
def test_chain_verdict_follows_the_gradients(setup, trend):
    from explain.unstable import chain_verdict

    chain = chain_gradients(setup)
    v = chain_verdict(chain)
    assert v.trend.startswith(trend)
    assert v.above_one + v.at_one + v.below_one == setup.depth - 1
    with np.errstate(invalid="ignore"):  # -inf - -inf when nothing is learned
        d = chain.log10_grad[0] - chain.log10_grad[-1]
    if trend == "vanishing":
        assert d < -np.log10(1.1)
    if trend == "exploding":
        assert d > np.log10(1.1) and v.above_one == setup.depth - 1
    if trend == "no change":
        assert d == 0 and v.at_one == setup.depth - 1
    if trend == "cut":
        assert v.zero_cause == "weight" and v.zero_through == setup.depth - 1
        assert np.all(chain.grad[: v.zero_through] == 0) and chain.grad[-1] != 0
    if trend == "nothing":
        assert v.zero_through == setup.depth and np.all(chain.grad == 0)


def test_chain_verdict_reports_float64_underflow_and_overflow():
    from explain.unstable import _chain_product, chain_verdict

    under = chain_verdict(chain_gradients(ChainSetup(30, "fixed", 100.0, "normal")))
    assert under.float_failure == "underflow" and under.trend == "vanishing"
    assert chain_verdict(chain_gradients(ChainSetup())).float_failure is None
    ones = np.ones(40)
    huge = _chain_product(ones, ones, ones, ones, ones, np.full(40, 1e10), 1.0)
    v = chain_verdict(huge)
    assert v.float_failure == "overflow" and v.trend == "exploding"


def test_escape_summary_marks_the_widest_window_and_yours():
    from explain.unstable import escape_summary

    ws = np.linspace(0, 30, 1201)
    esc = escape_summary(ws, 3.0)
    assert esc.w_best == pytest.approx(6.9, abs=0.05) and esc.under_half
    assert esc.width_yours == 0.0
    assert escape_summary(ws, None).width_yours is None
    assert escape_summary(ws, 10.0).width_yours == pytest.approx(float(escape_width(10.0)))


def history(grad_norm, dead=None, no_gradient=None, epoch=None):
    """A training History with only what the speed verdict reads."""
    from explain.nn.training import History

    g = np.asarray(grad_norm, dtype=float)
    zeros = np.zeros_like(g)
    epoch = np.arange(len(g)) * 10 if epoch is None else np.asarray(epoch)
    no_grad = (g == 0).astype(float) if no_gradient is None else np.asarray(no_gradient)
    dead = zeros if dead is None else np.asarray(dead, dtype=float)
    acc = np.zeros(len(g))
    return History(epoch, acc, acc, acc, acc, g, zeros, zeros, zeros, dead, no_grad)


def test_speed_verdict_compares_first_and_last_layer():
    from explain.unstable import speed_verdict

    v = speed_verdict(history([[0.01, 0.2], [0.001, 0.1], [0.002, 0.1]]), "sigmoid")
    assert v.end.verdict == "smaller" and v.end.ratio == pytest.approx(0.02)
    assert v.typical.ratio == pytest.approx((0.05 * 0.01 * 0.02) ** (1 / 3))
    assert v.rows_compared == 3 and v.last_epoch == 20 and v.silent == ()
    assert speed_verdict(history([[0.5, 0.1]]), "relu").end.verdict == "larger"
    assert speed_verdict(history([[0.1, 0.105]]), "relu").end.verdict == "same"


def test_speed_verdict_says_why_a_gradient_is_zero():
    from explain.unstable import speed_verdict

    # layer 3 dies at epoch 10 (every unit z <= 0), which cuts layers 1 and 2 off
    g = [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    dead = [[0, 0, 0], [0.4, 0.8, 1.0], [0.4, 0.8, 1.0]]
    v = speed_verdict(history(g, dead=dead), "relu")
    causes = {s.layer: (s.cause, s.by, s.from_epoch, s.to_the_end) for s in v.silent}
    assert causes == {1: ("cut", 3, 10, True), 2: ("cut", 3, 10, True), 3: ("dead", None, 10, True)}
    assert v.end.verdict == "both zero" and v.rows_compared == 1
    # the same zeros under tanh are saturation, not dead units
    assert speed_verdict(history(g, dead=dead), "tanh").silent[2].cause == "flat"
    # a gradient that is 0 once and comes back is not "from epoch ... on"
    blip = speed_verdict(history([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]), "relu").silent[0]
    assert (blip.from_epoch, blip.to_the_end, blip.zero_rows) == (10, False, 1)
    # a zero mean of nonzero per-digit gradients
    cancel = history([[1.0, 1.0], [0.0, 1.0]], no_gradient=[[0, 0], [0.5, 0]])
    assert speed_verdict(cancel, "sigmoid").silent[0].cause == "cancels"


def run(acc, grad_last=(0.01, 0.1), diverged=None):
    """A TrainResult stand-in: final validation accuracy (0-1) and last gradient norms."""
    from types import SimpleNamespace

    h = SimpleNamespace(
        epoch=np.array([0, 1]),
        eval_accuracy=np.array([0.1, acc]),
        grad_norm=np.array([grad_last, grad_last]),
    )
    return SimpleNamespace(history=h, diverged_at=diverged)


def test_depth_verdict_says_ties_as_ties():
    from explain.unstable import depth_verdict

    v = depth_verdict({1: run(0.961), 2: run(0.961), 3: run(0.95), 4: run(0.90)}, 1000)
    assert v.best == (1, 2) and v.best_accuracy == pytest.approx(96.1)
    assert v.deepest == 4 and v.deepest_gap == pytest.approx(6.1)
    assert v.deepest_gradients.verdict == "smaller"
    assert v.noise == pytest.approx(2 * 100 * np.sqrt(0.961 * 0.039 / 1000))
    assert depth_verdict({k: run(0.5) for k in (1, 2, 3, 4)}, 1000).best == (1, 2, 3, 4)


def test_depth_verdict_leaves_out_diverged_networks():
    from explain.unstable import depth_verdict

    v = depth_verdict({1: run(0.9), 2: run(0.95), 3: run(0.1, diverged=(3, 30))}, 1000)
    assert v.diverged == (3,) and v.best == (2,) and v.deepest == 2
    assert v.spread == pytest.approx(5.0)
    empty = depth_verdict({1: run(0.1, diverged=(0, 0))}, 1000)
    assert empty.accuracy == {} and empty.deepest is None


def test_accuracy_standard_error():
    from explain.unstable import accuracy_se

    assert accuracy_se(95.0, 1000) == pytest.approx(0.689, abs=1e-3)
    assert accuracy_se(100.0, 1000) == 0.0


def test_speed_runs_record_about_fifty_epochs():
    from explain.unstable import speed_of_learning_experiments

    for epochs in (20, 100, 300):
        exp = speed_of_learning_experiments(epochs=epochs)[0]
        assert 20 <= epochs // exp.record_every + 1 <= 51
