"""Build the bundled sample of daily closes from the datasets shipped with skfolio.

The skfolio wheel (BSD-3-Clause, https://github.com/skfolio/skfolio) ships two
files of daily split- and dividend-adjusted closes from 1990-01-02 to 2022-12-28:
`skfolio/datasets/data/sp500_dataset.csv.gz` (20 S&P 500 stocks) and
`sp500_index.csv.gz` (the S&P 500 index). This script joins them by date into
one wide CSV, `date,^GSPC,AAPL,...`, named after Yahoo's symbol for the index.
It copies every value as the source text spells it, never through a float, and
gzips with mtime 0 so that the same input always yields the same bytes.

Run it from the repository root:

    pip install skfolio && python scripts/build_sample.py

or point it at a folder that contains the two files:

    python scripts/build_sample.py path/to/skfolio/datasets/data
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
from pathlib import Path

STOCKS_FILE = "sp500_dataset.csv.gz"
INDEX_FILE = "sp500_index.csv.gz"
INDEX_SYMBOL = "^GSPC"
OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "src/stonkmarket/infrastructure/prices/sample_prices.csv.gz"
)
MAX_OUTPUT_BYTES = 1_000_000


def find_skfolio_data() -> Path:
    """Return the dataset folder of the installed skfolio, without importing it."""
    spec = importlib.util.find_spec("skfolio")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "skfolio is not installed: run `pip install skfolio`, "
            "or pass the folder that contains the two CSV files"
        )
    return Path(spec.origin).parent / "datasets" / "data"


def read_rows(path: Path) -> list[list[str]]:
    """Read a gzipped CSV into rows of the cells' original text."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def join_by_date(stocks: list[list[str]], index: list[list[str]]) -> list[list[str]]:
    """Put the index close next to the stock closes of the same date."""
    index_close_by_date = {row[0]: row[1] for row in index[1:]}
    stock_dates = [row[0] for row in stocks[1:]]
    if set(stock_dates) != set(index_close_by_date):
        raise SystemExit(
            f"{STOCKS_FILE} and {INDEX_FILE} cover different dates; "
            "check that both come from the same skfolio release"
        )

    header = ["date", INDEX_SYMBOL, *stocks[0][1:]]
    body = [[row[0], index_close_by_date[row[0]], *row[1:]] for row in stocks[1:]]
    return [header, *sorted(body)]


def write_gzipped_csv(rows: list[list[str]], path: Path) -> int:
    """Write rows as a deterministic gzipped CSV and return its size in bytes."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    payload = gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    path.write_bytes(payload)
    return len(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data_dir",
        nargs="?",
        type=Path,
        help="folder with the two skfolio CSV files (default: the installed skfolio)",
    )
    args = parser.parse_args()
    data_dir: Path = args.data_dir or find_skfolio_data()

    rows = join_by_date(
        read_rows(data_dir / STOCKS_FILE), read_rows(data_dir / INDEX_FILE)
    )
    size = write_gzipped_csv(rows, OUTPUT)
    if size >= MAX_OUTPUT_BYTES:
        raise SystemExit(f"{OUTPUT} is {size} bytes; the sample must stay under 1 MB")
    series = len(rows[0]) - 1
    print(f"wrote {OUTPUT}: {len(rows) - 1} dates, {series} series, {size} bytes")


if __name__ == "__main__":
    main()
