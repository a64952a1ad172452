"""Money the Indian way (the one rule lives in schema/formats.py), through Babel (CLDR's en_IN patterns), in answers and in what people type.

money(490901)        -> "₹4,90,901"
money(12_50_000)     -> "₹12.5 lakh"     (10 lakh and above read better in lakh / crore)
money(12_39_74_560)  -> "₹12.4 crore"
money(12_50_000, compact=False) -> "₹12,50,000"

parse_amount("₹4,90,901") == parse_amount("4,90,901") == 490901
parse_amount("4.9 lakh") == 490000;  parse_amount("2 cr") == 20000000;  parse_amount("50k") == 50000
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal

from schema.formats import COMPACT_FROM, CRORE, LAKH, LOCALE, _LOCALE, _pattern, money, number

__all__ = ["COMPACT_FROM", "CRORE", "LAKH", "money", "money_exact", "number", "parse_amount", "find_amounts"]

_UNITS = {
    "k": 1_000,
    "thousand": 1_000,
    "thousands": 1_000,
    "l": LAKH,
    "lac": LAKH,
    "lacs": LAKH,
    "lakh": LAKH,
    "lakhs": LAKH,
    "lk": LAKH,
    "cr": CRORE,
    "crs": CRORE,
    "crore": CRORE,
    "crores": CRORE,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
}
AMOUNT = re.compile(
    r"(?:₹|rs\.?|inr|rupees?)?\s*(\d[\d,]*(?:\.\d+)?)\s*(thousands?|lakhs?|lacs?|lac|lk|crores?|crs?|millions?|mn|k|l|m)?(?![a-z])",
    re.IGNORECASE,
)


def money_exact(x: float | int | Decimal | None) -> str:
    """Every rupee, Indian grouping, paise when there are any: ₹4,90,901.50."""
    if x is None:
        return "—"
    x = round(float(x), 2)
    pattern = "¤#,##,##0" if x == int(x) else "¤#,##,##0.00"
    return _pattern(pattern).apply(x, _LOCALE, currency="INR", currency_digits=False)


def parse_amount(text: str | float | int | None) -> float | None:
    """An amount as people write it: 490901, "4,90,901", "₹4,90,901", "Rs 50,000", "4.9 lakh",
    "2 cr", "50k", "1.2 crore", "3 million". None if the text holds no amount."""
    if text is None:
        return None
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        return float(text)
    m = AMOUNT.fullmatch(str(text).strip().lower())
    if not m:
        return None
    digits, unit = m.group(1), (m.group(2) or "").lower()
    try:
        value = parse_decimal(digits, locale=LOCALE, strict=False) if "," in digits else Decimal(digits)
    except (NumberFormatError, InvalidOperation):
        return None
    return float(value * _UNITS.get(unit, 1))


def find_amounts(text: str) -> list[tuple[float, tuple[int, int]]]:
    """Every amount in a sentence with its span ("over 4.9 lakh" -> [(490000.0, (5, 13))]); bare
    numbers without a currency sign or unit count too, so callers decide what a number means."""
    out = []
    for m in AMOUNT.finditer(text):
        v = parse_amount(m.group(0))
        if v is not None:
            out.append((v, m.span()))
    return out
