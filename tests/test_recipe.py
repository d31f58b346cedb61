"""Chart recipes and the specification cache: a recipe's key changes with any input (the
whole data, not a sample), equal inputs share one key, the spec a recipe yields equals the
chart's own, and the cache stays within its byte budget."""

import numpy as np
import pandas as pd

from charts import layered, line_chart, vline
from charts.figures import per_layer_histograms
from charts.recipe import Recipe
from ui.display import SpecCache, chart_spec, to_spec


def frame(n=20_000, bump_at=None):
    y = np.linspace(0, 1, n)
    if bump_at is not None:
        y = y.copy()
        y[bump_at] += 1e-12
    return pd.DataFrame({"x": np.arange(n, dtype=float), "y": y, "s": ["a"] * n})


def lines(df, **kw):
    return line_chart(df, x="x", y="y", color="s", title="T", x_title="x", y_title="y", **kw)


def test_a_page_gets_a_recipe_and_equal_inputs_share_a_key():
    r = lines(frame())
    assert isinstance(r, Recipe)
    assert r.key == lines(frame()).key


def test_any_change_anywhere_in_the_data_changes_the_key():
    base = lines(frame()).key
    for where in (0, 9_999, 19_999):  # a sampled hash could miss one of these
        assert lines(frame(bump_at=where)).key != base
    assert lines(frame(), log_y=True).key != base
    assert lines(frame()).properties(height=100).key != base


def test_nested_recipes_and_arrays_are_fingerprinted():
    a = layered(lines(frame()), vline(3.0, "here"))
    b = layered(lines(frame()), vline(3.5, "here"))
    assert a.key != b.key
    edges = np.linspace(0, 1, 11)
    shares = np.full((3, 10), 0.1)
    h1 = per_layer_histograms(edges, shares, title="H", x_title="a")
    shares2 = shares.copy()
    shares2[2, 9] = 0.1000001
    assert h1.key != per_layer_histograms(edges, shares2, title="H", x_title="a").key


def test_a_recipe_converts_like_the_chart_it_describes():
    r = layered(lines(frame(50)), vline(3.0, "here"), title="both")
    built = r.build()
    assert not isinstance(built, Recipe)
    assert r.to_dict() == built.to_dict()
    spec = chart_spec(r)
    assert spec is chart_spec(r), "the second call is served from the cache"
    assert spec["title"] == "both" and spec["datasets"]
    assert all(isinstance(d, bytes) for d in spec["datasets"].values())
    assert to_spec(built).keys() == spec.keys()


def test_lazy_methods_apply_on_build():
    r = lines(frame(10)).mark_point(filled=True)
    assert r.to_dict()["mark"]["type"] == "point"


def test_spec_cache_stays_within_its_budget():
    cache = SpecCache(budget=10_000)
    for k in range(50):
        cache.put(str(k), {"datasets": {"d": b"x" * 1000}})
    assert cache.used <= 10_000
    assert cache.get("49") is not None and cache.get("0") is None
    assert len(cache) < 50


def test_concurrent_requests_for_one_chart_build_it_once():
    import threading
    import time

    cache = SpecCache(budget=10_000)
    builds = []

    def build(key):
        with cache.building(key):
            if cache.get(key) is None:
                builds.append(key)
                time.sleep(0.05)
                cache.put(key, {"datasets": {}})

    threads = [threading.Thread(target=build, args=("same",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == ["same"]
    assert not cache._building
