"""The vocabulary the input contract (``loyalty_analytics.contract``) is declared in: column
kinds and their SQL types, affiliate kinds, and the frozen dataclasses a dataset is made of
(``Column``, ``Table``, ``Dataset``, ``Capabilities``, …)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

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
