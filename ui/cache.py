"""Cached runs of the long experiments, with a progress bar while they compute.

MNIST training runs are kept on disk too (``persist="disk"``): a restarted server, or a
second server process on the same machine, reads them instead of training again. Their key
includes ``ENGINE``, a digest of every source file of ``explain/``, so that a change to
the simulation can never be answered with a result the old code computed. In memory every
cache is bounded by ``max_entries``.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st

from explain.activation_verdicts import backward_sizes
from explain.bn_experiment import DepthSetup, IoffeSetup, run_depth, run_ioffe
from explain.descent import (
    SUGGESTED_ETAS,
    SURFACE_NAMES,
    OptimalRun,
    Race,
    RateScan,
    Setting,
    Terrain,
    adam_first_steps,
    optimal_run,
    race,
    rate_scan,
    scale_check,
    summarize,
)
from explain.experiments import MnistExperiment, run_mnist
from explain.lab import LabConfig, decision_grid, run_lab
from explain.learning_rate import (
    NEURON,
    RangeSetup,
    neuron_lam_max,
    neuron_onsets,
    neuron_regime,
    quadratic_regime,
    run_range_test,
)
from explain.neuron import NeuronRun, NeuronSetup, cost_surface, train_neuron
from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, init_params
from explain.nn.surfaces import grid
from explain.nn.training import TrainResult
from explain.normalization import (
    BatchSizeSetup,
    EvalSetup,
    GridSetup,
    axes_demo,
    eval_batch_effect,
    inference_demo,
    run_batch_sizes,
    run_grid,
    transform_demo,
)
from explain.propagation import DeepSetup, PropagationStats, propagation_stats
from explain.regularization_lesson import RegSetup, run_remedy
from explain.schedule_lesson import BatchPair, ScheduleRace, run_batch_pair, run_schedules
from explain.symmetry import SymmetryRun, symmetry_run
from explain.unstable import (
    ChainSetup,
    backward_shrinkage,
    chain_gradients,
    hidden_spec,
    init_gradients,
    init_norms_over_seeds,
    jacobian_norms,
)
from explain.zero_centred import TwoWeightSetup, eta_scan, inputs, path


def _engine_digest() -> str:
    """A digest of the simulation's code: every .py file under explain/, in path order."""
    root = Path(__file__).resolve().parents[1] / "explain"
    h = hashlib.blake2b(digest_size=12)
    for file in sorted(root.rglob("*.py")):
        h.update(str(file.relative_to(root)).encode())
        h.update(file.read_bytes())
    return h.hexdigest()


ENGINE = _engine_digest()


@st.cache_data(show_spinner=False, max_entries=256, persist="disk")
def _mnist_run(exp: MnistExperiment, engine: str, _on_epoch=None) -> TrainResult:
    return run_mnist(exp, _on_epoch)


def mnist_run(exp: MnistExperiment, _on_epoch=None) -> TrainResult:
    """``run_mnist`` cached across sessions and restarts, keyed by the experiment's
    parameters and the engine's code."""
    return _mnist_run(exp, ENGINE, _on_epoch)


PROGRESS_HZ = 4  # progress bar updates per second, at most: each one is a message to send


def mnist_runs(experiments: Sequence[MnistExperiment], label: str) -> list[TrainResult]:
    """Run (or fetch) several experiments, one progress bar across all their epochs.

    The bar lives outside the cached function. Its updates run in the context captured
    here, outside the cache, so that Streamlit does not record them as part of the cached
    result (a cache hit then simply never moves the bar).
    """
    total = sum(e.epochs for e in experiments)
    bar = st.progress(0.0, text=label)
    outside = contextvars.copy_context()
    results, done = [], 0
    last = [0.0]  # when the bar last moved: it moves at most PROGRESS_HZ times a second
    for exp in experiments:

        def tick(epoch: int, _total: int, base: int = done) -> None:
            now = time.monotonic()
            if now - last[0] < 1.0 / PROGRESS_HZ:
                return
            last[0] = now
            n = base + epoch
            outside.run(bar.progress, min(1.0, n / total), f"{label}: epoch {n} of {total}")

        results.append(mnist_run(exp, tick))
        done += exp.epochs
    bar.empty()
    return results


@st.cache_data(show_spinner="Measuring gradients at initialization…", max_entries=256)
def init_gradient_norms(n_hidden: int, activation: str, weight_init: str, seeds: int):
    """(seeds, n_hidden) hidden-layer gradient norms at initialization, seeds 0..seeds-1."""
    spec = hidden_spec(n_hidden, activation, weight_init)
    return init_norms_over_seeds(spec, range(seeds))


@st.cache_data(show_spinner=False, max_entries=256)
def init_bias_gradients(n_hidden: int, activation: str, weight_init: str, seed: int):
    """dC/db of every hidden layer at initialization, for one seed."""
    return init_gradients(hidden_spec(n_hidden, activation, weight_init), seed)


@st.cache_data(show_spinner=False, max_entries=256)
def jacobian_factor_norms(n_hidden: int, activation: str, weight_init: str, seed: int):
    """(spectral norms of each hidden layer's backward factor, measured ||delta^1||/||delta^L||)
    at initialization, over 200 digits."""
    spec = hidden_spec(n_hidden, activation, weight_init)
    params = init_params(spec, rng=np.random.default_rng(seed))
    digits = load_mnist().train.take(200)
    return jacobian_norms(spec, params, digits.x), backward_shrinkage(spec, params, digits)


@st.cache_data(show_spinner=False, max_entries=256)
def depth_gradient_norms(
    activation: str, depth: int, width: int, weight_init: str, seed: int, slope: float = 0.01
) -> np.ndarray:
    """||dC/db^l|| of every hidden layer of a fresh [784, width x depth, 10] network, zero
    biases, over 500 training digits."""
    spec = NetworkSpec(
        (784, *(width,) * depth, 10),
        activation,
        "cross_entropy",
        slope=slope,
        weight_init=weight_init,
        bias_init="zeros",
    )
    return init_gradients(spec, seed, n_images=500).norms


def symmetry_runs(hidden: int, epochs: int, seed: int) -> dict[str, SymmetryRun]:
    """The symmetry experiment for zero, constant and random (N(0, 1/n_in)) weights."""
    return _symmetry_runs(hidden, epochs, seed, ENGINE)


@st.cache_data(
    show_spinner="Training with equal and with random weights…", max_entries=64, persist="disk"
)
def _symmetry_runs(hidden: int, epochs: int, seed: int, engine: str) -> dict[str, SymmetryRun]:
    return {
        init: symmetry_run(init, hidden=hidden, epochs=epochs, seed=seed)
        for init in ("zeros", "constant", "scaled")
    }


@st.cache_data(show_spinner="Sending 1,000 inputs through the layers…", max_entries=256)
def propagation_summary(setup: DeepSetup) -> PropagationStats:
    """``propagation_stats`` cached: histograms and per-layer numbers, a few kB per setting."""
    return propagation_stats(setup)


# --- the small simulations a page reruns on every visit ----------------------------------
# Each takes a few milliseconds to tens of milliseconds; a lecture hall opening the same
# link runs them once. Keys are the frozen setups and plain numbers, never arrays.


@st.cache_data(show_spinner=False, max_entries=512)
def neuron_run(setup: NeuronSetup) -> NeuronRun:
    """``train_neuron`` cached by its setup."""
    return train_neuron(setup)


@st.cache_data(show_spinner=False, max_entries=256)
def neuron_surface(cost: str, x: float, y: float, w_range, b_range, n: int):
    """``cost_surface`` cached by its parameters."""
    return cost_surface(cost, x, y, w_range, b_range, n=n)


@st.cache_data(show_spinner=False, max_entries=256)
def zig_zag_runs(setup: TwoWeightSetup) -> tuple[dict, dict]:
    """The two-weight neuron's paths and learning-rate scans, on positive and on
    zero-centred inputs: ({name: path}, {name: scan})."""
    x_pos, x_cen = inputs(setup)
    xs = {"positive inputs": x_pos, "zero-centred inputs": x_cen}
    return (
        {name: path(x, setup) for name, x in xs.items()},
        {name: eta_scan(x, setup) for name, x in xs.items()},
    )


@st.cache_data(show_spinner=False, max_entries=256)
def chain_run(setup: ChainSetup):
    """``chain_gradients`` cached by its setup."""
    return chain_gradients(setup)


@st.cache_data(show_spinner=False, max_entries=256)
def relu_backward_sizes(depth: int, width: int, weight_init: str, seed: int):
    """``backward_sizes`` of the activation page's ReLU network at initialization (the same
    network as ``depth_gradient_norms``), cached by its settings."""
    spec = NetworkSpec(
        (784, *(width,) * depth, 10),
        "relu",
        "cross_entropy",
        weight_init=weight_init,
        bias_init="zeros",
    )
    return backward_sizes(spec, seed)


# --- the optimizers page ------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=512)
def surface_race(r: Race) -> tuple[dict, list]:
    """``race`` and each path's summary, cached by the frozen race: ({label: path}, [summary])."""
    paths = race(r)
    surface = r.terrain.build()
    return paths, [summarize(label, p, surface) for label, p in paths.items()]


@st.cache_data(show_spinner=False, max_entries=64)
def surface_grid(terrain: Terrain, n: int = 60):
    """The contour grid of a terrain: xs (n,), ys (n,), f (n, n)."""
    return grid(terrain.build(), n)


@st.cache_data(show_spinner=False, max_entries=128)
def quadratic_theory(kappa: float, beta: float) -> tuple[OptimalRun, RateScan]:
    """GD and momentum at their optimal settings, and the learning-rate scan at ``beta``."""
    return optimal_run(kappa), rate_scan(kappa, beta)


@st.cache_data(show_spinner=False, max_entries=64)
def adam_checks(beta1: float, beta2: float, steps: int = 60):
    """Adam's first steps with and without bias correction, and the scale check on every
    surface (Adam and SGD at the surface's suggested rates, on f and on 1000 f)."""
    checks = {
        name: {
            opt: scale_check(
                Terrain(name),
                Setting(opt, SUGGESTED_ETAS[name][opt], beta1=beta1, beta2=beta2),
                150,
            )
            for opt in ("adam", "sgd")
        }
        for name in SURFACE_NAMES
    }
    return adam_first_steps(beta1, beta2, steps), checks


# --- the normalization page ---------------------------------------------------------------


def progressed(fn, setup, label: str):
    """``fn(setup, ENGINE, tick)`` (a cached function) with a progress bar that moves at most
    PROGRESS_HZ times a second, outside the cache (as in ``mnist_runs``)."""
    bar = st.progress(0.0, text=label)
    outside = contextvars.copy_context()
    last = [0.0]

    def tick(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 / PROGRESS_HZ:
            return
        last[0] = now
        outside.run(bar.progress, min(1.0, done / max(total, 1)), f"{label}: {done} of {total}")

    out = fn(setup, ENGINE, tick)
    bar.empty()
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def bn_transform(batch_size: int, gamma: float, beta: float, seed: int):
    """``transform_demo`` and ``inference_demo`` (4 units) for one mini-batch."""
    return (
        transform_demo(batch_size, 4, gamma, beta, seed=seed),
        inference_demo(batch_size, 4, gamma, beta, seed=seed),
    )


@st.cache_data(show_spinner=False, max_entries=64)
def bn_axes(groups: int, seed: int):
    """``axes_demo`` on a 4 x 6 matrix."""
    return axes_demo(4, 6, groups, seed=seed)


@st.cache_data(
    show_spinner="Training a batch-norm network, then evaluating it in batches…",
    max_entries=32,
    persist="disk",
)
def _eval_batches(setup: EvalSetup, engine: str):
    return eval_batch_effect(setup)


def bn_eval_batches(setup: EvalSetup):
    """``eval_batch_effect`` cached across sessions and restarts."""
    return _eval_batches(setup, ENGINE)


@st.cache_data(show_spinner=False, max_entries=32, persist="disk")
def _grid_runs(setup: GridSetup, engine: str, _progress=None):
    return run_grid(setup, _progress)


def bn_grid(setup: GridSetup):
    n = len(setup.runs())
    return progressed(_grid_runs, setup, f"Training {n} networks")


@st.cache_data(show_spinner=False, max_entries=32, persist="disk")
def _batch_size_runs(setup: BatchSizeSetup, engine: str, _progress=None):
    return run_batch_sizes(setup, _progress)


def bn_batch_sizes(setup: BatchSizeSetup):
    n = len(setup.methods) * len(setup.batch_sizes)
    return progressed(_batch_size_runs, setup, f"Training {n} networks")


def _both(run, setup, progress):
    """``run(setup, norm, on_progress)`` without and with batch norm, one progress across both."""

    def part(k: int):
        if progress is None:
            return None
        return lambda done, total: progress(k * total + done, 2 * total)

    return run(setup, "none", part(0)), run(setup, "batch", part(1))


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def _ioffe_runs(setup: IoffeSetup, engine: str, _progress=None):
    return _both(run_ioffe, setup, _progress)


def bn_ioffe(setup: IoffeSetup):
    """The Ioffe and Szegedy experiment without and with batch norm: (plain, batch norm)."""
    return progressed(_ioffe_runs, setup, f"Training two networks for {setup.steps:,} steps")


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def _depth_runs(setup: DepthSetup, engine: str, _progress=None):
    return _both(run_depth, setup, _progress)


def bn_depth(setup: DepthSetup):
    """The deep network without and with batch norm: (plain, batch norm)."""
    return progressed(_depth_runs, setup, f"Training two deep networks for {setup.steps:,} steps")


# --- the learning-rate page ---------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32, persist="disk")
def _schedule_runs(setup: ScheduleRace, engine: str, _progress=None):
    return run_schedules(setup, _progress)


def schedule_runs(setup: ScheduleRace):
    """Every schedule of the race trained on MNIST: {name: ScheduleRun}."""
    return progressed(_schedule_runs, setup, f"Training {len(setup.schedules)} networks")


@st.cache_data(show_spinner=False, max_entries=32, persist="disk")
def _batch_pair_runs(pair: BatchPair, engine: str, _progress=None):
    return run_batch_pair(pair, _progress)


def batch_pair_runs(pair: BatchPair):
    """The schedule at two batch sizes (and two rates): [BatchRun]."""
    return progressed(_batch_pair_runs, pair, f"Training {len(pair.runs())} networks")


@st.cache_data(show_spinner=False, max_entries=256)
def lr_regime(surface: str, kappa: float, factor: float):
    """Gradient descent at eta = factor / lambda_max on the quadratic (kappa, 30 degrees) or
    on the one-neuron pages' neuron (target 0.5): a Regime, with the neuron's measured onsets."""
    if surface == "quadratic":
        lam_max = Terrain("quadratic", kappa, 30.0).build().curvatures[1]
        return quadratic_regime(kappa, 30.0, factor / lam_max, steps=60), None
    setup = (
        NEURON._replace(eta=factor / neuron_lam_max(NEURON))
        if hasattr(NEURON, "_replace")
        else replace(NEURON, eta=factor / neuron_lam_max(NEURON))
    )
    return neuron_regime(setup), neuron_onsets(NEURON)


@st.cache_data(show_spinner="Running the range test…", max_entries=32, persist="disk")
def _range_test(setup: RangeSetup, engine: str):
    return run_range_test(setup)


def range_test(setup: RangeSetup):
    """``run_range_test`` cached across sessions and restarts."""
    return _range_test(setup, ENGINE)


# --- the regularization page --------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64, persist="disk")
def _remedy_run(setup: RegSetup, engine: str, _progress=None):
    return run_remedy(setup, _progress)


def remedy_runs(setup: RegSetup, kinds) -> dict:
    """Each remedy of ``kinds`` on ``setup`` (keyed by ``setup.remedy(kind)``, so one
    remedy's control reruns only that remedy), one progress bar over all that are not cached."""
    out = {}
    for kind in kinds:
        own = setup.remedy(kind)
        out[kind] = progressed(_remedy_run, own, f"Training with {own.describe()}")
    return out


# --- the training lab ---------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64, persist="disk")
def _lab_run(config: LabConfig, engine: str, _progress=None):
    return run_lab(config, _progress)


def lab_run(config: LabConfig):
    """``run_lab`` cached by the whole configuration, with a progress bar."""
    return progressed(_lab_run, config, f"Training for {config.epochs} epochs")


@st.cache_data(show_spinner=False, max_entries=128)
def lab_grid(config: LabConfig, epoch: int, _params=None):
    """The decision regions of the lab's run after ``epoch`` (keyed by the configuration and
    the epoch, never by the arrays)."""
    run = _lab_run(config, ENGINE)
    params = run.snapshots[list(run.snapshot_epochs).index(epoch)]
    return decision_grid(config, params)
