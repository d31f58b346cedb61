"""Number formatting used in the pages' prose and formulas."""

import math

from ui.format import nice, nice_log10, num, plural, sci_latex, times


def test_sci_latex_is_exact_far_beyond_float64():
    assert sci_latex(-1243.3) == r"5.01 \times 10^{-1244}"
    assert sci_latex(math.log10(9.86e-6), -1) == r"-9.86 \times 10^{-6}"
    assert sci_latex(math.log10(1953.0)) == "1953"
    assert sci_latex(math.log10(9.9999e5)) == r"1.00 \times 10^{6}"  # mantissa rounds up
    assert sci_latex(float("-inf")) == "0"


def test_nice_never_prints_e_notation():
    assert nice(20200.4) == "20,200"
    assert nice(0.0234) == "0.0234"
    assert nice(1.37e-6) == "1.4 × 10⁻⁶"
    assert nice(7.18e82) == "7.2 × 10⁸²"
    assert nice(0) == "0"
    assert "e" not in nice(123456.0) + nice(0.001)


def test_times_num_plural():
    assert times(4.0) == "**4×** larger"
    assert times(0.25) == "**4×** smaller"
    assert times(float("nan")) == "not comparable"
    assert num(-0.5) == "(-0.5)"
    assert num(0.12345) == "0.1235"
    assert num(2.0613e-9) == r"2.061 \times 10^{-9}"
    assert num(-1.21e8) == r"(-1.21 \times 10^{8})"
    assert num(9.99999e-5) == r"1 \times 10^{-4}"
    assert "e" not in num(3.3e-7).replace("times", "")
    assert plural(1, "epoch") == "1 epoch"
    assert plural(3, "epoch") == "3 epochs"


def test_nice_log10_is_prose_far_beyond_float64():
    assert nice_log10(math.log10(1953.0)) == "1,953"
    assert nice_log10(1243.7) == "5 × 10¹²⁴³"
    assert nice_log10(-1243.3) == "5 × 10⁻¹²⁴⁴"
    assert nice_log10(float("-inf")) == "0"
