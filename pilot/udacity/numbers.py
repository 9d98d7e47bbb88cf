"""Numbers as the simulator writes and reads them, in any culture.

On the wire the simulator formats with C#'s N4 in the machine's culture ("12.3456",
"12,3456", "1,234.5000", "1.234,5000", "1 234,5000") and reads with float.Parse in the same
culture. In driving_log.csv it writes C#'s default float format ("7.843922E-05").
"""
from __future__ import annotations

import math
import re

import numpy as np

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'")   # group separators some cultures use


def read_culture_number(text: object) -> tuple[float, str | None]:
    """Read a number string in any culture; return (value, decimal mark: "," "." or None).

    With both separators the last one is the decimal mark; a lone separator that appears
    once is the decimal mark (N4 always writes decimals); one that repeats groups digits.
    A Unicode minus and exponents ("7.8E-05") are read. Raises ValueError for a non-string,
    for text that is not a number, and for NaN or infinities.
    """
    if not isinstance(text, str):
        raise ValueError(f"a number arrived as {type(text).__name__}, not as a string")
    body = text.strip().translate(_SPACES).replace("\u2212", "-")
    comma, dot = body.rfind(","), body.rfind(".")
    mark: str | None = None
    if comma >= 0 and dot >= 0:
        mark = "," if comma > dot else "."
        body = body.replace("." if mark == "," else ",", "")
    elif comma >= 0 or dot >= 0:
        separator = "," if comma >= 0 else "."
        if body.count(separator) == 1:
            mark = separator
        else:
            body = body.replace(separator, "")
    if mark == ",":
        body = body.replace(",", ".")
    value = float(body) if _NUMBER.fullmatch(body) else math.nan
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]!r} is not a finite number")
    return value, mark


class NotANumber(ValueError):
    """Text that is not a number at all."""


class NonFiniteNumber(ValueError):
    """NaN or an infinity, which no recording or telemetry may carry."""


def parse_csharp_number(token: str) -> float:
    """A number as C# writes it by default: '0', '-0.2', '7.843922E-05', '22.14829'."""
    text = token.strip()
    try:
        value = float(text)
    except ValueError:
        raise NotANumber(f"{text[:20]!r} is not a number") from None
    if not math.isfinite(value):
        raise NonFiniteNumber(f"{text[:20]!r} is not a finite number")
    return value


def format_csharp_float(value: float, decimal_comma: bool = False) -> str:
    """C#'s float.ToString() on the simulator's Mono runtime: 7 significant digits ("G7").

    `0`, `-0.2`, `22.14829`, `0.0008078032`, `7.843922E-05`, `1E+07`; a comma decimal mark
    for a comma culture. The value is rounded to single precision first, as Unity stores it.
    """
    single = float(np.float32(value))
    if math.isnan(single):
        return "NaN"
    if math.isinf(single):
        return "Infinity" if single > 0 else "-Infinity"
    text = format(single, ".7g").replace("e", "E")
    if text in ("-0", "0"):
        return "0"
    return text.replace(".", ",") if decimal_comma else text


def format_n4(value: float, decimal_comma: bool = False) -> str:
    """C#'s `value.ToString("N4")`: 4 decimals, group separators, in an en-US or de-DE culture.

    `format_n4(-1.23456) == "-1.2346"`, `format_n4(1234.5) == "1,234.5000"`,
    `format_n4(12.3, decimal_comma=True) == "12,3000"`. A value that rounds to zero is
    written without a minus sign, as Unity's Mono runtime does.
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot format {value!r} as N4: the simulator only sends finite numbers")
    text = f"{value:,.4f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0.0:
        text = text[1:]
    if decimal_comma:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
