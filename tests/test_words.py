"""How lesson sentences write numbers: two significant digits, powers of ten in superscript."""

import math

import pytest

from explain.words import amount, names


@pytest.mark.parametrize(
    ("v", "text"),
    [
        (6.499999, "6.5"),
        (0.3, "0.3"),
        (0.0031234, "0.0031"),
        (1299, "1,300"),
        (3.4e-7, "3.4 × 10⁻⁷"),
        (1.1e10, "1.1 × 10¹⁰"),
        (-2.5, "−2.5"),
        (0.0, "0"),
        (math.inf, "∞"),
        (math.nan, "not a number"),
    ],
)
def test_amount(v, text):
    assert amount(v) == text


def test_names():
    assert names([]) == ""
    assert names(["SGD"]) == "SGD"
    assert names(["SGD", "Adam"]) == "SGD and Adam"
    assert names(["SGD", "momentum", "Adam"]) == "SGD, momentum and Adam"
