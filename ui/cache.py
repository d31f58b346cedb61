"""Cached runs of the long experiments, with a progress bar while they compute."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence

import streamlit as st

from explain.experiments import MnistExperiment, run_mnist
from explain.training import TrainResult


@st.cache_data(show_spinner=False, max_entries=256)
def mnist_run(exp: MnistExperiment, _on_epoch=None) -> TrainResult:
    """``run_mnist`` cached across sessions, keyed by the experiment's parameters."""
    return run_mnist(exp, _on_epoch)


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
    for exp in experiments:

        def tick(epoch: int, _total: int, base: int = done) -> None:
            n = base + epoch
            outside.run(bar.progress, min(1.0, n / total), f"{label}: epoch {n} of {total}")

        results.append(mnist_run(exp, tick))
        done += exp.epochs
    bar.empty()
    return results
