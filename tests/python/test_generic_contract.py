"""The generic input contract's ingest on the shipped example (docs/examples/shop): a mapping
config and three small CSVs. Bad values stop with the config, file, line and column; config
mistakes name the key; the canonical tables have the contract's columns; samples are
deterministic. (The dbt side runs on the real datasets: test_real_datasets.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from loyalty_analytics.contract import GENERIC
from loyalty_analytics.ingest import InputError, mapping, prepare

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "shop"


@pytest.fixture
def shop(tmp_path) -> Path:
    """A copy of the example shop that a test may change."""
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _prepare(folder: Path, out: Path, **kwargs) -> dict:
    return prepare(str(folder / "shop.yml"), raw_dir=folder, out_dir=out, log=None, **kwargs)


def _replace_line(path: Path, number: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = new
    path.write_text("\n".join(lines) + "\n")


def test_example_shop_gives_the_canonical_tables_and_counts(shop, tmp_path):
    report = _prepare(shop, tmp_path / "out")
    con = duckdb.connect()
    for table in GENERIC.tables:
        described = con.execute(f"describe select * from read_parquet('{tmp_path / 'out' / table.file}')").fetchall()
        assert [(name, kind) for name, kind, *_ in described] == [(c.name, c.sql_type) for c in table.columns]
    quality = report["files"][0]["data_quality"]
    assert quality["rows"] == 10 and quality["customers"] == 3
    assert quality["lines_without_customer"] == 1 and quality["cancellation_lines"] == 1
    assert quality["negative_quantity_lines"] == 2 and quality["non_product_lines"] == 1
    variables = report["dbt_vars"]
    assert variables["source"] == "retail" and variables["has_returns"] and variables["has_categories"]
    assert not variables["has_business_units"] and not variables["has_payment_flag"]
    amounts = con.execute(
        f"select amount from read_parquet('{tmp_path / 'out' / 'transactions.parquet'}') order by source_line"
    ).fetchall()
    assert float(amounts[0][0]) == pytest.approx(3 * 0.45)  # quantity × unit_price, exact decimal


@pytest.mark.parametrize(
    "line, new, message",
    [
        (7, "1004,05/01/2024,C1,BRD,2.5,2.30,S1", "sales.csv line 7, column Qty (transactions.columns.quantity)"),
        (7, "1004,2024-01-05,C1,BRD,2,2.30,S1", "sales.csv line 7, column Day (transactions.columns.date)"),
        (2, "1001,02/01/2024,C1,APL,3,0.45001,S1", "sales.csv line 2, column Price"),
        (11, "1008,15/01/2024,C3 ,APL,6,0.45,S2", "sales.csv line 11, column Customer"),
    ],
    ids=["fractional_quantity", "date_format", "five_decimals", "padded_id"],
)
def test_a_bad_value_stops_with_file_line_and_column(shop, tmp_path, line, new, message):
    _replace_line(shop / "sales.csv", line, new)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _prepare(shop, tmp_path / "out")
    assert not (tmp_path / "out" / "transactions.parquet").exists()  # nothing half-written


def test_a_repeated_product_names_both_lines(shop, tmp_path):
    with open(shop / "products.csv", "a") as fh:
        fh.write("APL,Another apple,Fruit,Apples\n")
    with pytest.raises(InputError, match=r"products.csv line \d+: product APL .* is already on line 2"):
        _prepare(shop, tmp_path / "out")


@pytest.mark.parametrize(
    "edit, key",
    [
        (
            ("  columns:\n    customer_id: Customer", "  columns:\n    customer_id: Client"),
            "transactions.columns.customer_id",
        ),
        (("default_channel: offline", "default_channel: offline\nfavourite_colour: blue"), "favourite_colour"),
        (("    loyalty_level: category", "    loyalty_level:"), "customers.attributes.loyalty_level"),
    ],
    ids=["missing_column", "unknown_key", "attribute_without_kind"],
)
def test_a_config_mistake_names_the_key(shop, tmp_path, edit, key):
    config = shop / "shop.yml"
    text = config.read_text()
    assert edit[0] in text
    config.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(InputError, match=key):
        _prepare(shop, tmp_path / "out")


def test_an_empty_returns_key_means_the_data_records_returns(shop):
    config = shop / "shop.yml"
    text = config.read_text()
    config.write_text(text.replace("returns:\n  cancellation_receipt_prefix: R", "returns:"))
    assert mapping.load(config).capabilities.has_returns


def test_a_sample_keeps_whole_customers_and_is_deterministic(shop, tmp_path):
    first = _prepare(shop, tmp_path / "a", sample_customers=2)
    again = _prepare(shop, tmp_path / "b", sample_customers=2)
    read = "select customer_id, source_line from read_parquet('{}') order by source_line"
    con = duckdb.connect()
    rows = con.execute(read.format(tmp_path / "a" / "transactions.parquet")).fetchall()
    assert rows == con.execute(read.format(tmp_path / "b" / "transactions.parquet")).fetchall()
    customers = {c for c, _ in rows if c is not None}
    assert len(customers) == 2 and first["files"][0]["data_quality"]["customers"] == 2
    sales = (shop / "sales.csv").read_text().splitlines()[1:]
    every_line = sum(1 for line in sales if line.split(",")[2] in customers)
    assert len([c for c, _ in rows if c is not None]) == every_line  # every line of a sampled customer
    assert again["sample_customers"] == 2
