"""Numbers as the simulator writes them in any culture: one reader for the client and the server.

The simulator formats with C#'s N4 in the machine's culture ("12.3456", "12,3456",
"1,234.5000", "1.234,5000", "1 234,5000") and reads with float.Parse in the same culture.
"""
from __future__ import annotations

import math
import re

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
