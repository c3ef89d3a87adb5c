"""How numbers read on the pages: thousands separators, a currency code, percentages."""

from __future__ import annotations

import math


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, decimals: int = 0) -> str:
    return "–" if _missing(value) else f"{float(value):,.{decimals}f}"


def money(value, currency: str = "") -> str:
    """Cents below 100, whole units below a million, else millions or billions with one decimal
    (KRW sums are large, CDNOW means are tens of dollars)."""
    if _missing(value):
        return "–"
    value = float(value)
    if abs(value) >= 1e9:
        text = f"{value / 1e9:,.1f}B"
    elif abs(value) >= 1e6:
        text = f"{value / 1e6:,.1f}M"
    else:
        text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{text} {currency}".strip()


def percent(value, decimals: int = 1) -> str:
    return "–" if _missing(value) else f"{100 * float(value):.{decimals}f}%"
