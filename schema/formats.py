"""How a value of each declared format is written, in answers' words, tables and chart axes alike.

One rule for money everywhere (the answer's text through tools/money.py, the web app's tables, and
its chart axes through `axis_label_expr`): ₹ with Indian grouping below 10 lakh (₹4,90,901), lakh
and crore with up to two decimals from 10 lakh up (₹12.5 lakh, ₹14.09 crore). Percentages carry %,
dates read DD MMM YYYY in the user's time zone (FINKRAFT_TIMEZONE, default Asia/Kolkata).

Babel (CLDR's en_IN patterns) does the grouping; nothing here imports the project.
"""

from __future__ import annotations

import os
from datetime import date, datetime, UTC
from decimal import Decimal
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.numbers import NumberPattern, format_compact_decimal, parse_pattern

# the formats a column can declare: the data model's measure and dimension formats, plus date and text
Format = Literal["money", "count", "percent", "number", "days", "date", "text"]
Grain = Literal["day", "week", "month", "quarter", "year"]

LOCALE = "en_IN"
_LOCALE = Locale.parse(LOCALE)
LAKH, CRORE = 100_000, 10_000_000
COMPACT_FROM = 10 * LAKH  # below this, every digit: ₹4,90,901 reads fine
DEFAULT_TIMEZONE = "Asia/Kolkata"
NONE = "—"


@cache
def _pattern(pattern: str) -> NumberPattern:
    """Babel's pattern, parsed once (format_currency parses its pattern and locale on every call)."""
    return parse_pattern(pattern)


def number(x: float | int | Decimal | None, digits: int = 2) -> str:
    """A plain number with Indian grouping: 1,23,456 (up to `digits` decimals)."""
    if x is None:
        return NONE
    return _pattern("#,##,##0." + "#" * digits if digits else "#,##,##0").apply(x, _LOCALE)


def money(x: float | int | Decimal | None, *, compact: bool | None = None) -> str:
    """₹ with Indian digit grouping; lakh/crore words from 10 lakh up (compact=None), always or never."""
    if x is None:
        return NONE
    x = float(x)
    if compact is None:
        compact = abs(x) >= COMPACT_FROM
    if compact and abs(x) >= LAKH:
        sign = "-" if x < 0 else ""
        words = format_compact_decimal(abs(x), locale=LOCALE, format_type="long", fraction_digits=2)
        words = words.replace("\u202f", " ").replace("\xa0", " ")  # CLDR's narrow spaces: plain ones read anywhere
        _, _, unit = words.partition(" ")
        if unit == "crore" and abs(x) >= 1000 * CRORE:  # CLDR leaves "2307.57 crore" ungrouped: ₹2,307.57 crore
            words = f"{number(abs(x) / CRORE, 2)} crore"
        return f"{sign}₹" + words
    return _pattern("¤#,##,##0").apply(round(x), _LOCALE, currency="INR", currency_digits=False)


def percent(x: float | int | None) -> str:
    return NONE if x is None else f"{float(x):.1f}%"


def timezone() -> ZoneInfo:
    """The user's time zone: FINKRAFT_TIMEZONE (an IANA name), else Asia/Kolkata."""
    name = os.environ.get("FINKRAFT_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def day(value: Any, grain: Grain | None = None, tz: ZoneInfo | None = None) -> str:
    """A date as DD MMM YYYY ("03 Oct 2026"); a moment is first moved to the user's time zone. With a
    grain, a period: "Oct 2026" (month), "2026-Q3" stays, "week of 05 Oct 2026", "2026" (year)."""
    if value is None:
        return NONE
    text = str(value)
    try:
        if grain == "month" and len(text) == 7:
            return datetime.strptime(text, "%Y-%m").strftime("%b %Y")
        if isinstance(value, datetime) or (isinstance(value, str) and len(text) > 10):
            dt = value if isinstance(value, datetime) else datetime.fromisoformat(text)
            dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
            return dt.astimezone(tz or timezone()).strftime("%d %b %Y")
        d = value if isinstance(value, date) else date.fromisoformat(text)
        return ("week of " if grain == "week" else "") + d.strftime("%d %b %Y")
    except ValueError:
        return text


def cell(value: Any, fmt: Format, grain: Grain | None = None) -> str:
    """One value as a table cell, a tooltip or a chart label shows it."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt == "money" and isinstance(value, (int, float, Decimal)):
        return money(value)
    if fmt == "percent" and isinstance(value, (int, float, Decimal)):
        return percent(float(value))
    if fmt == "count" and isinstance(value, (int, float, Decimal)):
        return number(value, 0)
    if fmt == "days" and isinstance(value, (int, float, Decimal)):
        return f"{number(value, 1)} days"
    if fmt == "number" and isinstance(value, (int, float, Decimal)):
        return number(value)
    if fmt == "date":
        return day(value, grain)
    return str(value)


# The same rules in Vega's expression language, for chart axes and tooltips: money as `money` writes it
# (lakh and crore from 10 lakh up, two decimals at most; Indian grouping below), percent with %, counts
# with Indian grouping.
def _indian(v: str) -> str:
    return (
        f"(abs({v}) >= 100000 ? format(floor(abs({v}) / 100000), 'd') + ',' "
        f"+ format(floor(abs({v}) / 1000) % 100, '02d') + ',' + format(round(abs({v})) % 1000, '03d')"
        f" : format(round(abs({v})), ','))"
    )


def value_expr(fmt: Format, ref: str = "datum.value") -> str | None:
    """A Vega expression writing the number `ref` in format `fmt` (None: Vega's own way is right)."""
    sign = f"({ref} < 0 ? '-' : '')"
    if fmt == "money":
        return (
            f"{sign} + '₹' + (abs({ref}) >= 10000000 ? format(abs({ref}) / 10000000, ',.2~f') + ' crore'"
            f" : abs({ref}) >= 1000000 ? format(abs({ref}) / 100000, '.2~f') + ' lakh' : {_indian(ref)})"
        )
    if fmt == "percent":
        return f"format({ref}, '.1f') + '%'"
    if fmt == "count":
        return f"{sign} + {_indian(ref)}"
    return None


def axis_label_expr(fmt: Format) -> str | None:
    """A Vega-Lite `labelExpr` that writes a quantitative axis in the column's format."""
    return value_expr(fmt)
