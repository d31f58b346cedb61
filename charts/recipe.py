"""Charts that are described first and built only when nobody has built them before.

Building an Altair chart and turning it into a Vega-Lite specification costs far more than
the numbers behind it (Altair validates every piece against its JSON schema). A page rerun
with the same inputs should not pay that again, and 30 students opening the same page
should not pay it 30 times. So every public builder is wrapped by ``recipe``: called from a
page, it returns a ``Recipe`` (the builder and its arguments) instead of a chart, and the
recipe's ``key`` fingerprints those arguments exactly: data frames and arrays by a hash of
their full contents (never a sample), other values by their repr, nested recipes by their
keys. The display code looks the key up in a cache of finished specifications and builds
the chart only on a miss. Inside a builder (a figure made of other builders) calls build
eagerly, so builder bodies are plain Altair code.

``Recipe.to_dict()`` builds and converts, so a test reads a recipe like a chart.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


class Recipe:
    """A chart to be built: ``fn(*args, **kwargs)``, with a fingerprint of the arguments."""

    __slots__ = ("_key", "args", "fn", "kwargs")

    def __init__(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        self.fn, self.args, self.kwargs, self._key = fn, args, kwargs, None

    @property
    def key(self) -> str:
        """A digest of the builder's name and every argument's full contents."""
        if self._key is None:
            h = hashlib.blake2b(digest_size=20)
            h.update(f"{self.fn.__module__}.{self.fn.__qualname__}".encode())
            _feed(h, self.args)
            _feed(h, self.kwargs)
            self._key = h.hexdigest()
        return self._key

    def build(self):
        """The Altair chart (nested recipes are built too)."""
        _state.depth = _depth() + 1
        try:
            args = tuple(_built(a) for a in self.args)
            kwargs = {k: _built(v) for k, v in self.kwargs.items()}
            return self.fn(*args, **kwargs)
        finally:
            _state.depth -= 1

    def to_dict(self, **kwargs) -> dict:
        """``build().to_dict(**kwargs)``: the validated Vega-Lite specification."""
        return self.build().to_dict(**kwargs)

    def __getattr__(self, name: str):
        """A chart method (``.mark_point(...)``, ``.properties(...)``) applied lazily too."""
        if name.startswith("_"):
            raise AttributeError(name)

        def method(*args, **kwargs):
            return Recipe(_apply_method, (self, name, args, kwargs), {})

        return method

    def __repr__(self) -> str:
        return f"Recipe({self.fn.__qualname__}, key={self.key[:12]})"


def _apply_method(chart, name: str, args: tuple, kwargs: dict):
    return getattr(chart, name)(*args, **kwargs)


def _built(value):
    return value.build() if isinstance(value, Recipe) else value


def recipe(fn: Callable) -> Callable:
    """Make a builder lazy at the top level (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _depth():
            return fn(*args, **kwargs)
        return Recipe(fn, args, kwargs)

    return wrapper


def _feed(h, value: Any) -> None:
    """Feed ``value``'s full contents into the hash ``h``, tagged by kind."""
    if isinstance(value, Recipe):
        h.update(b"R" + value.key.encode())
    elif isinstance(value, pd.DataFrame):
        h.update(b"D" + repr((list(value.columns), [str(t) for t in value.dtypes])).encode())
        h.update(str(len(value)).encode())
        for _, column in value.items():
            _feed_column(h, column)
    elif isinstance(value, np.ndarray):
        h.update(b"A" + repr((value.dtype.str, value.shape)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        h.update(b"{" + str(len(value)).encode())
        for k in value:
            _feed(h, k)
            _feed(h, value[k])
    elif isinstance(value, tuple | list):
        h.update(b"(" + type(value).__name__.encode() + str(len(value)).encode())
        for v in value:
            _feed(h, v)
    elif callable(value):
        h.update(b"F" + getattr(value, "__qualname__", repr(value)).encode())
    else:
        h.update(b"V" + repr(value).encode())


def _feed_column(h, column: pd.Series) -> None:
    """A column's full contents: numbers as their bytes, anything else as the codes of its
    values plus the distinct values themselves (text columns repeat a few labels)."""
    if column.dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(column.to_numpy()).tobytes())
        return
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    h.update(codes.astype(np.int64).tobytes())
    h.update("\x1f".join(map(repr, uniques)).encode())
