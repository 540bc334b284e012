"""Rich tables for the ranking and for one signal."""

from __future__ import annotations

from rich.table import Table

from stonkmarket.application.views import RankingRow, Signal


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


_RANKING_HEADINGS = (
    "#",
    "ticker",
    "close",
    "peak",
    "peak date",
    "dip",
    "pctl",
    "days",
    "market",
    "class",
    "score",
    "alert",
)


def ranking_table(rows: list[RankingRow], window: int) -> Table:
    """Render the ranking as a terminal table, deepest dip first."""
    as_of = max((r.as_of_date for r in rows), default=None)
    title = f"Dip ranking, {window}-day peak" + (f", as of {as_of}" if as_of else "")
    table = Table(title=title, box=None)
    for heading in _RANKING_HEADINGS:
        left = heading in ("ticker", "class", "alert")
        table.add_column(heading, justify="left" if left else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            str(r.rank),
            r.ticker,
            f"{r.current_price:.2f}",
            f"{r.peak_stock:.2f}",
            r.peak_date.isoformat(),
            _pct(r.dip_stock),
            "-" if r.dip_pctl is None else f"{r.dip_pctl:.0f}",
            str(r.persist_days),
            _pct(r.dip_mkt),
            r.dip_class or "-",
            _number(r.final_score),
            r.alert_level,
        )
    return table


def signal_table(signal: Signal) -> Table:
    """Render one signal, one field a row."""
    table = Table(show_header=False, box=None)
    table.add_column("field")
    table.add_column("value", justify="right", no_wrap=True)
    shown = {
        "ticker": signal.ticker,
        "window": f"{signal.window} days",
        "benchmark": signal.benchmark,
        "as of": signal.as_of_date.isoformat(),
        "close": f"{signal.current_price:.2f}",
        "peak": f"{signal.peak_stock:.2f} on {signal.peak_date.isoformat()}",
        "dip": _pct(signal.dip_stock),
        "percentile of past dips": "-"
        if signal.dip_pctl is None
        else f"{signal.dip_pctl:.1f}",
        "typical dip": _pct(signal.typical_dip),
        "dip vs typical": "-"
        if signal.dip_vs_typical is None
        else f"{signal.dip_vs_typical:.2f}x",
        "days in dip": str(signal.persist_days),
        "market dip": _pct(signal.dip_mkt),
        "excess dip": _pct(signal.excess_dip),
        "class": signal.dip_class or "-",
        "dip score": _number(signal.dip_score),
        "quality score": _number(signal.quality_score),
        "stability score": _number(signal.stability_score),
        "final score": _number(signal.final_score),
        "alert": signal.alert_level,
        "settings version": str(signal.settings_version),
    }
    for name, value in shown.items():
        table.add_row(name, value)
    return table
