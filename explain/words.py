"""How the lessons write numbers and lists in the sentences they choose (plain text, no markup).

The lesson modules pick a page's sentences from measurements; these helpers keep the numbers
in those sentences readable: two significant digits, and powers of ten as "3.4 × 10⁻⁷",
never "3.4e-07", which reads as a subtraction.
"""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def amount(v: float, digits: int = 2) -> str:
    """v with ``digits`` significant digits for prose: 6.5, 0.56, 34, 1,100, 3.4 × 10⁻⁷,
    −2.5 (never 6.499999 or 'e-07'); 0 as '0', infinities as '∞'."""
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return "∞" if v > 0 else "−∞" if v < 0 else "not a number"
    sign = "−" if v < 0 else ""
    rounded = float(f"{abs(v):.{digits}g}")
    if 1e-3 <= rounded < 1e6:
        return sign + (f"{rounded:,.0f}" if rounded >= 100 else f"{rounded:g}")
    exponent = math.floor(math.log10(rounded))
    mantissa = float(f"{rounded / 10**exponent:.{digits}g}")
    return f"{sign}{mantissa:g} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def names(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
