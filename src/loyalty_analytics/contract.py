"""The input contract, declared once: per dataset the files it reads, their columns (kind, SQL
type, description, unit), the known affiliate codes, the default period and what the data records
(``Capabilities``, the dbt vars that switch models on and off).

Three input formats (dbt sources):

* ``lpoint`` — the six L.Point / L.Pay competition files (``LPOINT``);
* ``cdnow`` — the CDNOW log shipped inside lifetimes (``CDNOW``);
* ``retail`` — **the generic contract** (``GENERIC``): any retailer's purchase log, described by a
  small mapping config (YAML: ``datasets/*.yml``, docs/input_contract.md) that names the user's
  files and columns for the canonical fields below (``TRANSACTION_FIELDS``, ``PRODUCT_FIELDS``,
  ``CUSTOMER_FIELDS``). ingest checks the user's files against the config and writes the three
  canonical Parquet tables of ``GENERIC`` that the dbt source ``retail`` reads.

Who reads it:

* ``loyalty_analytics.ingest`` checks the raw files against it (header, kinds, keys, codes);
* ``loyalty_analytics.generator`` writes the L.Point files in this layout, with these codes;
* ``loyalty_analytics.pipeline`` and ``bench/pandas_peer.py`` take file names and columns from it;
* the dbt sources ``models/staging/<source>/_<source>__sources.yml`` are generated from it::

      python -m loyalty_analytics.contract --write-sources   # rewrite them
      python -m loyalty_analytics.contract --check           # exit 1 if a checked-in file differs

dbt keeps two copies that tests/python/test_contract.py holds equal to this module:
``seeds/affiliates.csv`` (the codes and kinds, plus display names and themes) and the
per-dataset default dates in ``macros/run_parameters.sql``.

A dataset is plain data (frozen dataclasses, no framework). A new retailer needs no code: a
mapping config onto the generic contract.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from loyalty_analytics import paths

# Column kinds: what ingest checks (so that dbt's cast cannot fail) and the SQL type dbt reads.
#   text      anything, may be empty
#   code      a code that joins files (customer, receipt, affiliate, store, product): may be
#             empty, no leading/trailing spaces (a padded code would match nothing downstream)
#   key       the code that identifies a row of a dimension file: filled in, unique in its file
#   int       integer within INTEGER's range
#   date      YYYYMMDD text (parsed in staging)
#   iso_date  YYYY-MM-DD (a file ingest wrote itself)
#   hour      0..23
#   numeric   integer or plain decimal that is a finite DOUBLE
# and, in the Parquet files ingest writes itself for the generic contract (typed on write):
#   timestamp TIMESTAMP (local time)
#   money     DECIMAL(18,4): exact sums, so a rebuild adds cents in any order to the same total
#   flag      BOOLEAN
#   number    DOUBLE (numeric customer attributes)
#   row       BIGINT (a row or line number)
TEXT, CODE, KEY, INT, DATE, ISO_DATE, HOUR, NUMERIC = (
    "text",
    "code",
    "key",
    "int",
    "date",
    "iso_date",
    "hour",
    "numeric",
)
TIMESTAMP, MONEY, FLAG, NUMBER, ROW = "timestamp", "money", "flag", "number", "row"
# Money after the checked models (and in the generic prepared files): whole units and 4 decimals,
# |x| < 10^14. dbt's var max_line_amount must stay below that bound.
MONEY_SQL_TYPE = "DECIMAL(18,4)"
MONEY_SCALE = 4
MONEY_LIMIT = 10**14
SQL_TYPES = {
    TEXT: "VARCHAR",
    CODE: "VARCHAR",
    KEY: "VARCHAR",
    DATE: "VARCHAR",
    INT: "INTEGER",
    HOUR: "INTEGER",
    NUMERIC: "DOUBLE",
    ISO_DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
    MONEY: MONEY_SQL_TYPE,
    FLAG: "BOOLEAN",
    NUMBER: "DOUBLE",
    ROW: "BIGINT",
}

# What staging reads an affiliate code as (column affiliate_kind of seeds/affiliates.csv).
RETAIL, SERVICE, LPAY = "retail", "service", "lpay"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    description: str
    unit: str = ""  # money and quantities: KRW, USD, units, CDs
    known_codes: bool = False  # holds an affiliate code; ingest counts values outside the dataset's codes

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def full_description(self) -> str:
        """The description with its unit, as the dbt docs show it."""
        if not self.unit:
            return self.description
        return f"{self.description.rstrip('.')}, {self.unit}."


@dataclass(frozen=True)
class Table:
    name: str  # dbt source table name
    file: str  # file name in the prepared folder (and, for L.Point, in the raw folder)
    description: str
    columns: tuple[Column, ...]
    format: str = "csv"  # csv (read with the declared types) or parquet (written with them by ingest)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def key(self) -> Column | None:
        """The column that identifies a row of a dimension file (kind key), if any."""
        return next((column for column in self.columns if column.kind == KEY), None)


@dataclass(frozen=True)
class Affiliate:
    code: str
    kind: str  # RETAIL, SERVICE or LPAY


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Capabilities:
    """What a dataset records. The pipeline passes each as the dbt var of the same name, which
    switches the models that need it on or off (dbt_project.yml, whose defaults are L.Point's);
    what a dataset lacks is omitted or null, never a made-up value (docs/input_contract.md)."""

    has_products: bool = True  # product ids on the lines: preference, sessions, recommendations
    has_categories: bool = True  # product categories: category levels, stamp mission
    has_business_units: bool = True  # several business units (L.Point affiliates): affiliate_preferences
    has_payment_flag: bool = True  # a payment flag per receipt (L.Pay): lpay_* columns, else null
    has_customer_attributes: bool = True  # customer attributes (demographics)
    has_returns: bool = False  # returns / cancellations recorded: int_returns and return rates, else null

    def dbt_vars(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Dataset:
    source: str  # dbt source name (and the dbt var `source`); its yml lives in models/staging/<source>/
    description: str
    tables: tuple[Table, ...]
    period: Period | None  # default observation period (dbt vars period_start / period_end); None: from the data
    affiliates: tuple[Affiliate, ...] = ()
    capabilities: Capabilities = Capabilities()

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"{self.source} has no table {name!r}")

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(table.file for table in self.tables)

    def affiliate_codes(self, kind: str | None = None) -> tuple[str, ...]:
        return tuple(a.code for a in self.affiliates if kind is None or a.kind == kind)

    @property
    def sources_yml_path(self) -> Path:
        """Relative to the project root."""
        return Path("models") / "staging" / self.source / f"_{self.source}__sources.yml"


@dataclass(frozen=True)
class PublishedLog:
    """A CDNOW log as published (it ships inside the lifetimes package): whitespace-separated,
    YYYYMMDD dates. ingest converts it into the CDNOW transactions table and checks the counts."""

    file: str
    columns: tuple[str, ...]
    customers: int
    transactions: int


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

# ----------------------------------------------------------------------------- the generic contract

# What a mapping config may name a column for (docs/input_contract.md). Field kinds say how
# ingest reads the user's column (whatever its type in the file) and what it must hold:
#   id         text or a whole number (ids are compared as text); no leading/trailing spaces
#   timestamp  a timestamp (Parquet TIMESTAMP / DATE, or text in the config's timestamp_format)
#   day        a date (Parquet DATE / TIMESTAMP, or text in the config's date_format)
#   integer    a whole number within INTEGER's range
#   money      a number with at most 4 decimal places, |x| < 10^14 (DECIMAL(18,4))
#   text       anything, may be empty
#   channel    'online' or 'offline' (any case); anything else is quarantined as unknown_channel
#   flag       true/false, 1/0, yes/no, t/f, y/n (any case), or a BOOLEAN column
#   category   a categorical customer attribute (read as text)
#   number     a numeric customer attribute (a finite number)
F_ID, F_TIMESTAMP, F_DAY, F_INTEGER, F_MONEY, F_TEXT, F_CHANNEL, F_FLAG, F_CATEGORY, F_NUMBER = (
    "id",
    "timestamp",
    "day",
    "integer",
    "money",
    "text",
    "channel",
    "flag",
    "category",
    "number",
)


@dataclass(frozen=True)
class Field:
    """A canonical field of the generic contract: the key under which a mapping config names the
    user's column (``transactions.columns.<name>: <column in the file>``)."""

    name: str
    kind: str
    required: bool
    description: str


TRANSACTION_FIELDS = (
    Field("customer_id", F_ID, True, "The customer (member, household). Lines without one are quarantined."),
    Field("receipt_id", F_ID, True, "The receipt / basket / invoice: the lines bought together."),
    Field("timestamp", F_TIMESTAMP, False, "When the line was bought (date and time). This or `date`."),
    Field("date", F_DAY, False, "The day the line was bought, when the data has no time of day. This or `timestamp`."),
    Field("product_id", F_ID, True, "The product (SKU, stock code)."),
    Field("quantity", F_INTEGER, True, "Units; negative for a returned line."),
    Field("amount", F_MONEY, False, "What the line cost (all units). This or `unit_price`."),
    Field("unit_price", F_MONEY, False, "Price of one unit: amount = quantity × unit_price. This or `amount`."),
    Field("product_name", F_TEXT, False, "Product name on the line (the products get their most frequent one)."),
    Field("store_id", F_ID, False, "The store; empty = none (online)."),
    Field("channel", F_CHANNEL, False, "online / offline; without it every line has the config's default_channel."),
    Field("business_unit", F_ID, False, "Business unit / banner / affiliate; without it one unit, 'ALL'."),
    Field("payment_flag", F_FLAG, False, "The receipt was paid with the payment method the flag marks (L.Pay)."),
)
# Exactly one of each pair must be mapped.
ONE_OF_TRANSACTION_FIELDS = (("timestamp", "date"), ("amount", "unit_price"))
PRODUCT_FIELDS = (
    Field("product_id", F_ID, True, "The product; each appears once."),
    Field("product_name", F_TEXT, False, "Name shown in the marts."),
    Field("category_1", F_TEXT, False, "Top category level (department)."),
    Field("category_2", F_TEXT, False, "Second category level, under category_1."),
    Field("category_3", F_TEXT, False, "Third category level, under category_2."),
)
CUSTOMER_FIELDS = (Field("customer_id", F_ID, True, "The customer; each appears once."),)
ATTRIBUTE_KINDS = (F_CATEGORY, F_NUMBER)
# The business unit of every line when the data has none (in seeds/affiliates.csv).
ONE_BUSINESS_UNIT = "ALL"

GENERIC = Dataset(
    source="retail",
    description=(
        "Any retailer's purchase log through the generic input contract: the canonical tables that "
        "`python -m loyalty_analytics.ingest --dataset <config>` writes from a mapping config "
        "(datasets/*.yml, docs/input_contract.md)."
    ),
    period=None,  # the config's, else the data's first..last day
    affiliates=(Affiliate(ONE_BUSINESS_UNIT, RETAIL),),
    capabilities=Capabilities(),  # from each mapping config (ingest.mapping.Mapping.capabilities)
    tables=(
        Table(
            "transactions",
            "transactions.parquet",
            "one row per line of the user's transactions file, canonical columns.",
            (
                Column("source_file", TEXT, "The user's transactions file (name)."),
                Column("source_line", ROW, "Line in a CSV file (header = line 1), row (1-based) in a Parquet file."),
                Column("customer_id", CODE, "Customer id as text; null when the line has none."),
                Column("receipt_id", CODE, "Receipt / basket id as text."),
                Column("purchased_at", TIMESTAMP, "Local date and time (midnight when the data has dates only)."),
                Column("product_id", CODE, "Product id as text; null when the line has none."),
                Column("product_name", TEXT, "Product name on the line; null when not mapped."),
                Column("quantity", INT, "Units (negative for returns).", unit="units"),
                Column(
                    "unit_price",
                    MONEY,
                    "Price of one unit; null when the config maps amount.",
                    unit="the dataset's currency",
                ),
                Column(
                    "amount",
                    MONEY,
                    "Line amount (quantity × unit_price when mapped so).",
                    unit="the dataset's currency",
                ),
                Column("store_id", CODE, "Store id; null when not mapped or empty."),
                Column("channel", TEXT, "Channel as in the file (lower case), or the config's default_channel."),
                Column("business_unit", CODE, "Business unit, or 'ALL' when the data has none."),
                Column("payment_flag", FLAG, "Receipt paid with the flagged payment method; null when not mapped."),
                Column("is_cancellation", FLAG, "The receipt id matches the config's cancellation rule."),
                Column("is_non_product", FLAG, "The product id is one of the config's non_product_ids."),
            ),
            format="parquet",
        ),
        Table(
            "products",
            "products.parquet",
            "one row per product (the products file, or the product ids of the transactions).",
            (
                Column("product_id", KEY, "Product id as text."),
                Column("product_name", TEXT, "Product name; null when unknown."),
                Column("category_1", TEXT, "Top category level; null when none."),
                Column("category_2", TEXT, "Second category level; null when none."),
                Column("category_3", TEXT, "Third category level; null when none."),
                Column("is_non_product", FLAG, "One of the config's non_product_ids (postage, fees, ...)."),
            ),
            format="parquet",
        ),
        Table(
            "customer_attributes",
            "customer_attributes.parquet",
            "customer attributes, long: one row per customer and known attribute (none without a customers file).",
            (
                Column("customer_id", CODE, "Customer id as text."),
                Column("attribute", TEXT, "Attribute name (the config's)."),
                Column("attribute_position", INT, "Position of the attribute in the config (1 = first)."),
                Column("value_text", TEXT, "Value of a categorical attribute; null for a numeric one."),
                Column("value_number", NUMBER, "Value of a numeric attribute; null for a categorical one."),
            ),
            format="parquet",
        ),
    ),
)

# Every dataset the pipeline and dbt know by name (the dbt var `dataset`), in the order the CLIs
# list them. Generic datasets are named by their mapping config (datasets/<name>.yml).
DATASETS: dict[str, Dataset] = {"lpoint": LPOINT, "cdnow": CDNOW, "cdnow_sample": CDNOW}


def sources() -> tuple[Dataset, ...]:
    """Each dbt source once (cdnow and cdnow_sample read the same one), the generic one last."""
    return (*{dataset.source: dataset for dataset in DATASETS.values()}.values(), GENERIC)


# ----------------------------------------------------------------------------- dbt sources yml

PREPARED_DIR_EXPRESSION = """{{ env_var('LOYALTY_PREPARED_DIR', 'data/prepared') | replace("'", "''") }}"""
_HEADER = """\
# Generated by `python -m loyalty_analytics.contract --write-sources` from
# src/loyalty_analytics/contract.py: do not edit; change the contract and regenerate.
version: 2

# Read from the prepared folder that `python -m loyalty_analytics.ingest` writes (checked,
# UTF-8). Types are explicit and given as lists (names=[...], types=[...]): the dict form
# clashes with dbt's `{name}` templating. YYYYMMDD dates stay text and are parsed in staging.
# Parquet files (the generic contract) carry the declared types: ingest writes them so.
"""


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def _sql_list(values) -> str:
    return "[" + ", ".join(f"'{_sql_text(value)}'" for value in values) + "]"


def _external_location(table: Table) -> str:
    """The external_location: a read_csv over the prepared file with the declared names and types,
    or a read_parquet of a Parquet file ingest wrote with them."""
    if table.format == "parquet":
        return f"read_parquet('{PREPARED_DIR_EXPRESSION}/{_sql_text(table.file)}')"
    return (
        f"read_csv('{PREPARED_DIR_EXPRESSION}/{_sql_text(table.file)}',\n"
        "header=true, delim=',', quote='\"',\n"
        f"names={_sql_list(table.column_names)},\n"
        f"types={_sql_list(column.sql_type for column in table.columns)})"
    )


def _yaml_text(key: str, text: str, indent: str) -> list[str]:
    """`key: text` as a plain scalar if it is short and YAML reads it back unchanged, else
    folded over lines of up to 100 characters, else double-quoted."""
    import json
    import textwrap

    import yaml

    plain = [f"{indent}{key}: {text}"]
    folded = [f"{indent}{key}: >-"] + textwrap.wrap(
        text, 100, initial_indent=indent + "  ", subsequent_indent=indent + "  "
    )
    for lines in ([plain] if len(plain[0]) <= 110 else []) + [folded]:
        if yaml.safe_load("\n".join(lines)) == {key: text}:
            return lines
    return [f"{indent}{key}: {json.dumps(text, ensure_ascii=False)}"]


# Source freshness (`dbt source freshness`, warn only): the newest line of a table with a date is
# expected within FRESHNESS_WARN_AFTER_DAYS of now, as for a warehouse rebuilt from at least weekly
# extracts; older means a feed stopped or an old extract was loaded. Historical data (the
# competition's 2021, CDNOW's 1997-98) always warns, by design: the warning names the newest day.
FRESHNESS_WARN_AFTER_DAYS = 7
_LOADED_AT = {  # the column as a timestamp, per kind
    DATE: "try_strptime({}, '%Y%m%d')",
    ISO_DATE: "cast({} as timestamp)",
    TIMESTAMP: "{}",
}


def _freshness_yml(table: Table) -> list[str]:
    """The table's freshness config, dated by its first date or timestamp column (none without one)."""
    dated = next((column for column in table.columns if column.kind in _LOADED_AT), None)
    if dated is None:
        return []
    loaded_at = _LOADED_AT[dated.kind].format(dated.name)
    return [
        "        config:",
        f'          loaded_at_field: "{loaded_at}"',
        "          freshness:",
        f"            warn_after: {{count: {FRESHNESS_WARN_AFTER_DAYS}, period: day}}",
    ]


def _table_yml(table: Table) -> list[str]:
    lines = [f"      - name: {table.name}"]
    lines += _yaml_text("description", f"{Path(table.file).stem} — {table.description}", "        ")
    lines += _freshness_yml(table)
    lines += ["        meta:", "          external_location: >-"]
    lines += ["            " + part for part in _external_location(table).splitlines()]
    lines.append("        columns:")
    for column in table.columns:
        lines.append(f"          - name: {column.name}")
        lines += _yaml_text("description", column.full_description, "            ")
    return lines


def sources_yml(dataset: Dataset) -> str:
    """The text of the dataset's dbt sources yml."""
    lines = ["sources:", f"  - name: {dataset.source}"]
    lines += _yaml_text("description", dataset.description, "    ")
    # Only the built input's source, as for its staging models (dbt_project.yml): a plain
    # `dbt source freshness` checks the files of the dataset being built, not absent ones.
    lines += ["    config:", f"      enabled: \"{{{{ var('source', 'lpoint') == '{dataset.source}' }}}}\""]
    lines.append("    tables:")
    for table in dataset.tables:
        lines += _table_yml(table)
    return _HEADER + "\n".join(lines) + "\n"


def stale_sources(project_root: Path) -> list[Path]:
    """The sources yml under project_root whose text differs from what the contract generates."""
    stale = []
    for dataset in sources():
        path = project_root / dataset.sources_yml_path
        if not path.is_file() or path.read_text(encoding="utf-8") != sources_yml(dataset):
            stale.append(path)
    return stale


def write_sources(project_root: Path) -> list[Path]:
    """(Re)write every dataset's sources yml under project_root; returns the paths."""
    written = []
    for dataset in sources():
        path = project_root / dataset.sources_yml_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sources_yml(dataset), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.contract",
        description="Generate or check the dbt sources yml from the input contract.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write-sources", action="store_true", help="rewrite models/staging/*/_*__sources.yml")
    action.add_argument("--check", action="store_true", help="exit 1 if a checked-in sources yml differs")
    parser.add_argument("--project-dir", type=Path, default=paths.PROJECT_ROOT)
    args = parser.parse_args(argv)
    if args.write_sources:
        for path in write_sources(args.project_dir):
            print(f"wrote {path}")
        return 0
    stale = stale_sources(args.project_dir)
    for path in stale:
        print(
            f"{path} differs from the contract: run python -m loyalty_analytics.contract --write-sources",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
