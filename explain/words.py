"""How the lessons write numbers and lists in the sentences they choose (plain text, no markup).

The lesson modules pick a page's sentences from measurements; these helpers keep the numbers
in those sentences readable: two significant digits, and powers of ten as "3.4 × 10⁻⁷",
never "3.4e-07", which reads as a subtraction.
"""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def amount(v: float, digits: int = 2) -> str:
    """v with ``digits`` significant digits: '0.0031', '12', '1,300', '3.4 × 10⁻⁷', '−2.5'."""
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return "∞" if v > 0 else "−∞" if v < 0 else "not a number"
    sign = "−" if v < 0 else ""
    a = abs(v)
    exponent = math.floor(math.log10(a))
    mantissa = round(a / 10**exponent, digits - 1)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    if -3 <= exponent < 6:
        text = f"{round(a, digits - 1 - exponent):,.{max(0, digits - 1 - exponent)}f}"
        return sign + text
    return f"{sign}{mantissa:.{digits - 1}f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def names(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
