from __future__ import annotations

import pytest

from stonkmarket.domain.errors import InvalidTickerError
from stonkmarket.domain.tickers import normalise_ticker

REJECTED = "is not a Yahoo symbol: use 1 to 15 characters from A-Z, 0-9 and"


def test_lowercase_is_upper_cased() -> None:
    ticker = normalise_ticker("aapl")

    assert ticker == "AAPL"


def test_surrounding_whitespace_is_trimmed() -> None:
    ticker = normalise_ticker("  msft\t\n")

    assert ticker == "MSFT"


def test_share_class_dot_becomes_dash() -> None:
    ticker = normalise_ticker("BRK.B")

    assert ticker == "BRK-B"


def test_lowercase_share_class_becomes_dash() -> None:
    ticker = normalise_ticker(" brk.a ")

    assert ticker == "BRK-A"


@pytest.mark.parametrize("raw", ["VOD.L", "SAP.F", "RY.T", "ABC.V"])
def test_exchange_suffix_keeps_its_dot(raw: str) -> None:
    ticker = normalise_ticker(raw)

    assert ticker == raw


def test_two_letter_exchange_suffix_keeps_its_dot() -> None:
    ticker = normalise_ticker("0700.hk")

    assert ticker == "0700.HK"


@pytest.mark.parametrize("raw", ["^GSPC", "EURUSD=X", "BTC-USD", "BRK-B", "A"])
def test_yahoo_special_forms_are_accepted(raw: str) -> None:
    ticker = normalise_ticker(raw)

    assert ticker == raw


def test_fifteen_characters_are_accepted() -> None:
    raw = "ABCDEFGHIJKLMNO"

    ticker = normalise_ticker(raw)

    assert ticker == raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="only-spaces"),
        pytest.param("ABCDEFGHIJKLMNOP", id="sixteen-chars"),
        pytest.param("BRK B", id="space-inside"),
        pytest.param("aa$", id="dollar-sign"),
        pytest.param("AAPL/US", id="slash"),
        pytest.param("ÄPPL", id="non-ascii-letter"),
    ],
)
def test_malformed_ticker_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidTickerError, match=REJECTED) as caught:
        normalise_ticker(raw)

    assert caught.value.field == "ticker"


def test_rejection_message_quotes_the_raw_input() -> None:
    with pytest.raises(InvalidTickerError) as caught:
        normalise_ticker("aa$")

    assert caught.value.message.startswith("ticker 'aa$' is not a Yahoo symbol")
