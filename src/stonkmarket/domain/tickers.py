"""Tickers in Yahoo form, the one spelling every part of the system uses."""

from __future__ import annotations

import re

from stonkmarket.domain.errors import InvalidTickerError

_YAHOO_FORM = re.compile(r"[A-Z0-9.\-^=]{1,15}")
_HAS_LETTER_OR_DIGIT = re.compile(r"[A-Z0-9]")
# One-letter Yahoo suffixes that name an exchange rather than a share class.
_EXCHANGE_LETTERS = frozenset("FLTV")


def normalise_ticker(raw: str, *, field: str = "ticker") -> str:
    """Return the ticker in Yahoo form, or raise InvalidTickerError.

    Upper-cases, trims, and writes a share class with a dash as Yahoo does
    (`BRK.B` becomes `BRK-B`); exchange suffixes such as `VOD.L` keep their dot.
    """
    ticker = raw.strip().upper() if raw.isascii() else raw
    if not _YAHOO_FORM.fullmatch(ticker) or not _HAS_LETTER_OR_DIGIT.search(ticker):
        raise InvalidTickerError(
            f"ticker {raw!r} is not a Yahoo symbol: use 1 to 15 characters "
            "from A-Z, 0-9 and . - ^ =, at least one a letter or digit",
            field=field,
        )
    base, dot, suffix = ticker.rpartition(".")
    is_share_class = len(suffix) == 1 and suffix not in _EXCHANGE_LETTERS
    if dot and is_share_class and suffix.isalpha() and "." not in base:
        ticker = f"{base}-{suffix}"
    return ticker
