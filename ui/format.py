"""Number formatting shared by the pages (text only, no streamlit)."""

from __future__ import annotations

import math


def sci_latex(log10_abs: float, sign: float = 1.0) -> str:
    """A magnitude given by its log10 as LaTeX: 9.9 \\times 10^{-6}, exact far beyond float64."""
    if not math.isfinite(log10_abs):
        return "0"
    exponent = math.floor(log10_abs)
    mantissa = 10 ** (log10_abs - exponent)
    if mantissa >= 9.995:
        mantissa, exponent = 1.0, exponent + 1
    prefix = "-" if sign < 0 else ""
    if -3 <= exponent <= 3:
        return f"{prefix}{mantissa * 10**exponent:.4g}"
    return rf"{prefix}{mantissa:.2f} \times 10^{{{exponent}}}"


def times(ratio: float) -> str:
    """'4.2× larger' or '3.1× smaller' for a ratio of two positive sizes."""
    if not math.isfinite(ratio) or ratio <= 0:
        return "not comparable"
    return f"**{nice(ratio)}×** larger" if ratio >= 1 else f"**{nice(1 / ratio)}×** smaller"


def plural(n: int, word: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def num(v: float, digits: int = 4, bracket: bool = True) -> str:
    """A number for a LaTeX formula: 4 (``digits``) significant digits, negatives in brackets
    (unless ``bracket`` is False, e.g. inside a column vector), and powers of ten written out
    (2.061 \\times 10^{-9}, never "2.061e-09", which reads as a subtraction)."""
    if v == 0 or not math.isfinite(v):
        text = "0" if v == 0 else ("\\infty" if v > 0 else "-\\infty")
    elif 1e-3 <= abs(v) < 1e5:
        text = f"{v:.{digits}g}"
    else:
        exponent = math.floor(math.log10(abs(v)))
        mantissa = v / 10**exponent
        if abs(round(mantissa, 3)) >= 10:
            mantissa, exponent = mantissa / 10, exponent + 1
        text = f"{mantissa:.{digits}g} \\times 10^{{{exponent}}}"
    return f"({text})" if v < 0 and bracket else text


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def nice(v: float) -> str:
    """A number for prose: 3 significant digits, thousands separators, never 'e+04'."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if 1e-3 <= abs(v) < 1e6:
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    exponent = math.floor(math.log10(abs(v)))
    mantissa = v / 10**exponent
    return f"{mantissa:.2g} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def nice_log10(log10_abs: float, sign: float = 1.0) -> str:
    """``nice`` for a magnitude given by its log10, exact far beyond float64: '1,953',
    '5.0 × 10¹²⁴⁴' (prose, never LaTeX)."""
    if not math.isfinite(log10_abs):
        return "0"
    if -300 < log10_abs < 300:
        return nice(sign * 10**log10_abs)
    exponent = math.floor(log10_abs)
    mantissa = 10 ** (log10_abs - exponent)
    prefix = "−" if sign < 0 else ""
    return f"{prefix}{mantissa:.2g} × 10{str(exponent).translate(_SUPERSCRIPT)}"
