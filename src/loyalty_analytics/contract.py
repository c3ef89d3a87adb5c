"""The input contract, declared once: per dataset the files it reads, their columns (kind, SQL
type, description, unit), the known affiliate codes, the default period and what the data records
(``Capabilities``, the dbt vars that switch models on and off).

Three input formats (dbt sources):

* ``lpoint`` — the six L.Point / L.Pay competition files (``LPOINT``);
* ``cdnow`` — the CDNOW log shipped inside lifetimes (``CDNOW``);
* ``retail`` — **the generic contract** (``GENERIC``): any retailer's purchase log, described by a
  small mapping config (YAML: ``datasets/*.yml``, docs/input_contract.md) that names the user's
  files and columns for the canonical fields (``TRANSACTION_FIELDS``, ``PRODUCT_FIELDS``,
  ``CUSTOMER_FIELDS``; declared in ``contract_generic``). ingest checks the user's files against
  the config and writes the three canonical Parquet tables of ``GENERIC`` that the dbt source
  ``retail`` reads.

Who reads it:

* ``loyalty_analytics.ingest`` checks the raw files against it (header, kinds, keys, codes);
* ``loyalty_analytics.generator`` writes the L.Point files in this layout, with these codes;
* ``loyalty_analytics.pipeline`` and ``bench/pandas_peer.py`` take file names and columns from it;
* the dbt sources ``models/staging/<source>/_<source>__sources.yml`` are generated from it
  (``contract_sources``)::

      python -m loyalty_analytics.contract --write-sources   # rewrite them
      python -m loyalty_analytics.contract --check           # exit 1 if a checked-in file differs

dbt keeps two copies that tests/python/test_contract.py holds equal to this module:
``seeds/affiliates.csv`` (the codes and kinds, plus display names and themes) and the
per-dataset default dates in ``macros/run_parameters.sql``.

A dataset is plain data (frozen dataclasses of ``contract_types``, no framework). A new retailer
needs no code: a mapping config onto the generic contract.
"""

from __future__ import annotations

import datetime as dt
import sys

from loyalty_analytics.contract_generic import (
    ATTRIBUTE_KINDS,
    CUSTOMER_FIELDS,
    F_CATEGORY,
    F_CHANNEL,
    F_DAY,
    F_FLAG,
    F_ID,
    F_INTEGER,
    F_MONEY,
    F_NUMBER,
    F_TEXT,
    F_TIMESTAMP,
    GENERIC,
    ONE_BUSINESS_UNIT,
    ONE_OF_TRANSACTION_FIELDS,
    PRODUCT_FIELDS,
    TRANSACTION_FIELDS,
    Field,
)
from loyalty_analytics.contract_types import (
    CODE,
    DATE,
    FLAG,
    HOUR,
    INT,
    ISO_DATE,
    KEY,
    LPAY,
    MONEY,
    MONEY_LIMIT,
    MONEY_SCALE,
    MONEY_SQL_TYPE,
    NUMBER,
    NUMERIC,
    RETAIL,
    ROW,
    SERVICE,
    SQL_TYPES,
    TEXT,
    TIMESTAMP,
    Affiliate,
    Capabilities,
    Column,
    Dataset,
    Period,
    PublishedLog,
    Table,
)

# The declarations live in three modules (contract_types: the vocabulary; contract_generic: the
# generic contract; here: L.Point, CDNOW and the dataset names); every name is importable from here.
__all__ = [
    "LPOINT",
    "CDNOW",
    "CDNOW_LOGS",
    "DATASETS",
    "sources",
    "TEXT",
    "CODE",
    "KEY",
    "INT",
    "DATE",
    "ISO_DATE",
    "HOUR",
    "NUMERIC",
    "TIMESTAMP",
    "MONEY",
    "FLAG",
    "NUMBER",
    "ROW",
    "MONEY_SQL_TYPE",
    "MONEY_SCALE",
    "MONEY_LIMIT",
    "SQL_TYPES",
    "RETAIL",
    "SERVICE",
    "LPAY",
    "Column",
    "Table",
    "Affiliate",
    "Period",
    "Capabilities",
    "Dataset",
    "PublishedLog",
    "F_ID",
    "F_TIMESTAMP",
    "F_DAY",
    "F_INTEGER",
    "F_MONEY",
    "F_TEXT",
    "F_CHANNEL",
    "F_FLAG",
    "F_CATEGORY",
    "F_NUMBER",
    "Field",
    "TRANSACTION_FIELDS",
    "ONE_OF_TRANSACTION_FIELDS",
    "PRODUCT_FIELDS",
    "CUSTOMER_FIELDS",
    "ATTRIBUTE_KINDS",
    "ONE_BUSINESS_UNIT",
    "GENERIC",
]

# ----------------------------------------------------------------------------- L.Point


def _customer(kind: str = CODE, description: str = "Customer number.") -> Column:
    return Column("cust", kind, description)


_CHANNEL = Column("chnl_dv", INT, "Channel, 1 offline / 2 online.")

LPOINT = Dataset(
    source="lpoint",
    description="L.Point / L.Pay files of the 2022 Lotte Members competition (or generated files in the same format).",
    period=Period(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
    # Order matters to the generator (an affiliate's index is its position among the retail,
    # then service codes). L00 / L01: L.Pay payments outside the affiliates, offline / online.
    affiliates=(
        *(Affiliate(code, RETAIL) for code in ("A01", "A02", "A03", "A04", "A05", "A06")),
        *(Affiliate(code, SERVICE) for code in ("B01", "C01", "C02", "D01", "D02", "E01")),
        Affiliate("L00", LPAY),
        Affiliate("L01", LPAY),
    ),
    tables=(
        Table(
            "demo",
            "LPOINT_BIG_COMP_01_DEMO.csv",
            "one row per customer.",
            (
                _customer(KEY, "Customer number, M + 9 digits."),
                Column("ma_fem_dv", TEXT, "Sex, 남성 (male) / 여성 (female)."),
                Column("ages", TEXT, "Age band, 20대..70대."),
                Column("zon_hlv", TEXT, "Region, Z01..Z17."),
            ),
        ),
        Table(
            "pdde",
            "LPOINT_BIG_COMP_02_PDDE.csv",
            "product purchase lines at retail affiliates A01..A06.",
            (
                _customer(),
                Column("rct_no", CODE, "Receipt number."),
                _CHANNEL,
                Column("cop_c", CODE, "Affiliate code A01..A06.", known_codes=True),
                Column("br_c", CODE, "Store code; empty online."),
                Column("pd_c", CODE, "Product code."),
                Column("de_dt", DATE, "Purchase date, YYYYMMDD."),
                Column("de_hr", HOUR, "Purchase hour, 0..23."),
                Column(
                    "buy_am",
                    NUMERIC,
                    "Amount of the line (zero or negative for cancellations and returns).",
                    unit="KRW",
                ),
                Column("buy_ct", INT, "Quantity bought.", unit="units"),
            ),
        ),
        Table(
            "cop_u",
            "LPOINT_BIG_COMP_03_COP_U.csv",
            "use of service affiliates (B01, C01, C02, D01, D02, E01).",
            (
                _customer(),
                Column("rct_no", CODE, "Receipt number."),
                Column("cop_c", CODE, "Service affiliate code.", known_codes=True),
                Column("br_c", CODE, "Store code; empty online."),
                _CHANNEL,
                Column("de_dt", DATE, "Payment date, YYYYMMDD."),
                Column("vst_dt", DATE, "Visit date, YYYYMMDD."),
                Column("de_hr", HOUR, "Payment hour, 0..23."),
                Column("buy_am", NUMERIC, "Amount paid for the service use.", unit="KRW"),
            ),
        ),
        Table(
            "pd_clac",
            "LPOINT_BIG_COMP_04_PD_CLAC.csv",
            "product catalogue with a 3-level hierarchy.",
            (
                Column("pd_c", KEY, "Product code."),
                Column("pd_nm", TEXT, "Product name (Korean text)."),
                Column("clac_hlv_nm", TEXT, "Major category (Korean text)."),
                Column("clac_mcls_nm", TEXT, "Middle category under the major one (Korean text)."),
            ),
        ),
        Table(
            "br",
            "LPOINT_BIG_COMP_05_BR.csv",
            "stores.",
            (
                Column("br_c", KEY, "Store code."),
                # not counted against the known codes: the report counts them in the spend files only
                Column("cop_c", CODE, "Affiliate of the store."),
                Column("zon_hlv", TEXT, "Region of the store, Z01..Z17."),
                Column("zon_mcls", TEXT, "Sub-region of the store."),
            ),
        ),
        Table(
            "lpay",
            "LPOINT_BIG_COMP_06_LPAY.csv",
            "L.Pay payments; rct_no links to the receipt it paid.",
            (
                _customer(),
                Column("rct_no", CODE, "Receipt number of the paid receipt (or of the outside-affiliate payment)."),
                Column("cop_c", CODE, "Affiliate code; L00/L01 = outside the affiliates.", known_codes=True),
                _CHANNEL,
                Column("de_dt", DATE, "Payment date, YYYYMMDD."),
                Column("de_hr", HOUR, "Payment hour, 0..23."),
                Column("buy_am", NUMERIC, "Amount paid.", unit="KRW"),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------- CDNOW

CDNOW = Dataset(
    source="cdnow",
    description=(
        "The CDNOW purchase log (Fader, Hardie & Lee 2005) that ships inside the lifetimes package, "
        "converted by `python -m loyalty_analytics.ingest --dataset cdnow|cdnow_sample` into one CSV."
    ),
    period=Period(dt.date(1997, 1, 1), dt.date(1998, 6, 30)),
    affiliates=(Affiliate("CDNOW", RETAIL),),  # one shop: int_transactions gives every line this code
    capabilities=Capabilities(
        has_products=False,
        has_categories=False,
        has_business_units=False,
        has_payment_flag=False,
        has_customer_attributes=False,
        has_returns=False,
    ),
    tables=(
        Table(
            "transactions",
            "cdnow_transactions.csv",
            "one row per transaction (customer, day, CDs, dollars).",
            (
                Column("customer_id", CODE, "CDNOW customer id."),
                Column("purchase_date", ISO_DATE, "Purchase day."),
                Column("quantity", INT, "Quantity.", unit="CDs"),
                Column("amount", NUMERIC, "Dollar value of the transaction (0 occurs in the log).", unit="USD"),
            ),
        ),
    ),
)

# dataset name -> the published log it reads. The sample's first two columns are the master
# customer id and the customer's index within the sample.
CDNOW_LOGS = {
    "cdnow": PublishedLog("CDNOW_master.txt", ("customer_id", "date", "quantity", "amount"), 23_570, 69_659),
    "cdnow_sample": PublishedLog(
        "CDNOW_sample.txt", ("customer_id", "sample_index", "date", "quantity", "amount"), 2_357, 6_919
    ),
}


# Every dataset the pipeline and dbt know by name (the dbt var `dataset`), in the order the CLIs
# list them. Generic datasets are named by their mapping config (datasets/<name>.yml).
DATASETS: dict[str, Dataset] = {"lpoint": LPOINT, "cdnow": CDNOW, "cdnow_sample": CDNOW}


def sources() -> tuple[Dataset, ...]:
    """Each dbt source once (cdnow and cdnow_sample read the same one), the generic one last."""
    return (*{dataset.source: dataset for dataset in DATASETS.values()}.values(), GENERIC)


if __name__ == "__main__":  # the sources yml CLI: see loyalty_analytics.contract_sources
    from loyalty_analytics.contract_sources import main

    sys.exit(main())
