"""Fundamental metrics of one company, normalised from Yahoo's quote summary.

yfinance's `Ticker.info` mixes units (fractions, percent, currency amounts) and
marks unknown numbers in several ways. `normalise_info` turns it into one typed
record: fractions are fractions, and every unusable value is None with a note.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import msgspec

# Only the `dividendYield` key needs this. yfinance 1.x reports it in percent
# (2.59 means 2.59 %) and older releases reported a fraction. Above 0.2 it must
# be percent, because a fractional yield above 20 % is implausible for a stock.
DIVIDEND_PERCENT_ABOVE = 0.2

_PRICE_KEYS = ("currentPrice", "regularMarketPrice", "previousClose")

# Field: its info key, then the statement lines whose ratio replaces it.
_PROFITABILITY_SOURCES = {
    "profit_margin": ("profitMargins", "Net Income", "Total Revenue"),
    "operating_margin": ("operatingMargins", "Operating Income", "Total Revenue"),
    "return_on_equity": ("returnOnEquity", "Net Income", "Stockholders Equity"),
    "return_on_assets": ("returnOnAssets", "Net Income", "Total Assets"),
}


class FundamentalMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """Fundamentals of one company. None means unknown, never zero.

    Margins, returns, growth rates and yields are fractions (0.25 is 25 %).
    Amounts are in the listing's currency (USD for US listings) and are not
    converted.
    """

    # Profitability: trailing twelve months from info, else the last fiscal year.
    profit_margin: float | None = None
    operating_margin: float | None = None
    return_on_equity: float | None = None
    return_on_assets: float | None = None
    # Balance sheet: debt_to_equity is a ratio (1.5 means debt is 1.5x equity).
    debt_to_equity: float | None = None
    current_ratio: float | None = None
    # Cash generation: free cash flow / market cap, operating cash flow / revenue.
    free_cash_flow_yield: float | None = None
    operating_cash_flow_margin: float | None = None
    # Growth, year over year.
    revenue_growth: float | None = None
    earnings_growth: float | None = None
    # Size and liquidity; dollar volume is average shares a day x price.
    market_cap: float | None = None
    average_dollar_volume: float | None = None
    # Shown to users; the quality score does not use it.
    dividend_yield: float | None = None


class NormalisedFundamentals(msgspec.Struct, frozen=True, kw_only=True):
    """Metrics plus, per metric field, why a raw value read for it was rejected.

    A field can have a value and a note when a fallback filled it.
    """

    metrics: FundamentalMetrics
    notes: dict[str, str]


def normalise_info(
    info: Mapping[str, object], statements: Mapping[str, object] | None = None
) -> NormalisedFundamentals:
    """Convert yfinance `Ticker.info` into typed metrics in one set of units.

    `statements` maps yfinance statement line names ("Net Income", "Total
    Revenue", ...) to their latest annual value. It fills ratios that `info`
    lacks, and it is never read for a field that `info` supplies.

    Numeric strings are accepted. NaN, infinity, bools, null and other strings
    become None with a note, and so do impossible values such as a negative
    market cap. A key that is absent gives None with no note.
    """
    reader = _Reader(info, statements or {})
    profitability = {
        field: _ratio(reader, field, key, numerator, denominator)
        for field, (key, numerator, denominator) in _PROFITABILITY_SOURCES.items()
    }
    metrics = FundamentalMetrics(
        **profitability,
        debt_to_equity=_debt_to_equity(reader),
        current_ratio=_ratio(
            reader,
            "current_ratio",
            "currentRatio",
            "Current Assets",
            "Current Liabilities",
            quantity="a current ratio",
        ),
        free_cash_flow_yield=_free_cash_flow_yield(reader),
        operating_cash_flow_margin=_operating_cash_flow_margin(reader),
        revenue_growth=reader.info_number("revenueGrowth", "revenue_growth"),
        earnings_growth=reader.info_number("earningsGrowth", "earnings_growth"),
        market_cap=reader.info_number(
            "marketCap", "market_cap", quantity="a market cap", positive=True
        ),
        average_dollar_volume=_average_dollar_volume(reader),
        dividend_yield=_dividend_yield(reader),
    )
    return NormalisedFundamentals(
        metrics=_without_overflow(metrics, reader.notes), notes=reader.notes
    )


def _without_overflow(
    metrics: FundamentalMetrics, notes: dict[str, str]
) -> FundamentalMetrics:
    """Turn a ratio that overflowed to infinity into None, with a note."""
    fields = msgspec.structs.asdict(metrics)
    for name, value in fields.items():
        if value is not None and not math.isfinite(value):
            fields[name] = None
            notes[name] = f"the inputs overflow to {value}; treated as unknown"
    return FundamentalMetrics(**fields)


class _Reader:
    """Reads numbers from `info` and `statements`, noting each rejected value."""

    def __init__(
        self, info: Mapping[str, object], statements: Mapping[str, object]
    ) -> None:
        self.info = info
        self.statements = statements
        self.notes: dict[str, str] = {}

    def info_number(
        self,
        key: str,
        field: str,
        *,
        quantity: str | None = None,
        positive: bool = False,
    ) -> float | None:
        """Return `info[key]` as a float, or None with a note for `field`.

        A `quantity` ("a price") turns on the sign check: the value must not be
        negative, or must be above zero when `positive` is set.
        """
        return self._number(self.info, key, key, field, quantity, positive)

    def statement_number(
        self,
        line: str,
        field: str,
        *,
        quantity: str | None = None,
        positive: bool = False,
    ) -> float | None:
        """Return the statement line as a float, or None, like `info_number`."""
        label = f"statement line {line!r}"
        return self._number(self.statements, line, label, field, quantity, positive)

    def note(self, field: str, message: str) -> None:
        earlier = self.notes.get(field)
        self.notes[field] = message if earlier is None else f"{earlier}; {message}"

    def _number(
        self,
        source: Mapping[str, object],
        key: str,
        label: str,
        field: str,
        quantity: str | None,
        positive: bool,
    ) -> float | None:
        if key not in source:
            return None
        value, problem = _parse_number(source[key])
        if value is not None and quantity is not None:
            problem = _sign_problem(value, quantity, positive)
        if problem is not None:
            self.note(field, f"{label} {problem}")
            return None
        return value


def _parse_number(raw: object) -> tuple[float | None, str | None]:
    """Return `raw` as a finite float, or None and the reason it was rejected."""
    if raw is None:
        return None, "is null"
    if isinstance(raw, bool):
        return None, f"is a bool ({raw}), not a number"
    if not isinstance(raw, str | numbers.Real):
        return None, f"is not a number: {raw!r}"
    try:
        number = float(raw)
    except ValueError:
        return None, f"is not a number: {raw!r}"
    except OverflowError:
        return None, "is too large for a float"
    if math.isnan(number):
        return None, "is NaN"
    if math.isinf(number):
        return None, "is infinite"
    return number, None


def _sign_problem(value: float, quantity: str, positive: bool) -> str | None:
    if positive and value <= 0:
        return f"is {value:g}, but {quantity} must be above zero"
    if value < 0:
        return f"is {value:g}, but {quantity} cannot be negative"
    return None


def _ratio(
    reader: _Reader,
    field: str,
    key: str,
    numerator: str,
    denominator: str,
    *,
    quantity: str | None = None,
) -> float | None:
    """Return `info[key]`, else the statements' numerator / denominator."""
    value = reader.info_number(key, field, quantity=quantity)
    if value is not None:
        return value
    return _statement_ratio(reader, field, numerator, denominator)


def _statement_ratio(
    reader: _Reader, field: str, numerator: str, denominator: str
) -> float | None:
    top = reader.statement_number(numerator, field)
    if top is None:
        return None
    bottom = reader.statement_number(
        denominator, field, quantity="a divisor", positive=True
    )
    if bottom is None:
        return None
    return top / bottom


def _debt_to_equity(reader: _Reader) -> float | None:
    percent = reader.info_number("debtToEquity", "debt_to_equity")
    if percent is not None and percent < 0:
        reader.note(
            "debt_to_equity",
            f"debtToEquity is {percent:g}, which means negative equity, "
            "so the ratio is not comparable",
        )
        percent = None
    if percent is not None:
        # Yahoo reports debt/equity in percent: 150 means debt is 1.5x equity.
        return percent / 100
    return _statement_ratio(
        reader, "debt_to_equity", "Total Debt", "Stockholders Equity"
    )


def _free_cash_flow_yield(reader: _Reader) -> float | None:
    field = "free_cash_flow_yield"
    cash = reader.info_number("freeCashflow", field)
    if cash is None:
        cash = reader.statement_number("Free Cash Flow", field)
    if cash is None:
        return None
    market_cap = reader.info_number(
        "marketCap", field, quantity="a market cap", positive=True
    )
    if market_cap is None:
        return None
    return cash / market_cap


def _operating_cash_flow_margin(reader: _Reader) -> float | None:
    field = "operating_cash_flow_margin"
    cash = reader.info_number("operatingCashflow", field)
    if cash is not None:
        revenue = reader.info_number(
            "totalRevenue", field, quantity="a divisor", positive=True
        )
        if revenue is not None:
            return cash / revenue
    # Both amounts come from the same source, so a trailing-twelve-month cash
    # flow is never divided by a fiscal-year revenue.
    return _statement_ratio(reader, field, "Operating Cash Flow", "Total Revenue")


def _average_dollar_volume(reader: _Reader) -> float | None:
    field = "average_dollar_volume"
    shares = reader.info_number("averageVolume", field, quantity="a volume")
    if shares is None:
        return None
    for key in _PRICE_KEYS:
        price = reader.info_number(key, field, quantity="a price", positive=True)
        if price is not None:
            return shares * price
    return None


def _dividend_yield(reader: _Reader) -> float | None:
    field = "dividend_yield"
    # trailingAnnualDividendYield is a fraction in every yfinance release.
    trailing = reader.info_number(
        "trailingAnnualDividendYield", field, quantity="a dividend yield"
    )
    if trailing is not None:
        return trailing
    quoted = reader.info_number("dividendYield", field, quantity="a dividend yield")
    if quoted is None or quoted == 0:
        return quoted
    if quoted > DIVIDEND_PERCENT_ABOVE:
        return quoted / 100
    reader.note(
        field,
        f"dividendYield {quoted:g} is ambiguous: {quoted:g} % if in percent "
        f"(current yfinance), {quoted * 100:g} % if a fraction (older releases)",
    )
    return None
