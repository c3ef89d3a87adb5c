"""A mapping config: how one retailer's files map onto the generic input contract
(``contract.TRANSACTION_FIELDS``, ``PRODUCT_FIELDS``, ``CUSTOMER_FIELDS``). YAML, no code; the
format is documented in docs/input_contract.md and shipped examples are ``datasets/*.yml``.

:func:`load` reads a config and checks its keys and values; every error names the config file
and the key (``datasets/x.yml: transactions.columns.quantity: ...``). Whether the files and
columns exist and hold what the config says is checked by ``ingest.retail``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from loyalty_analytics import paths
from loyalty_analytics.contract import (
    ATTRIBUTE_KINDS,
    CUSTOMER_FIELDS,
    DATASETS,
    MONEY_LIMIT,
    ONE_OF_TRANSACTION_FIELDS,
    PRODUCT_FIELDS,
    TRANSACTION_FIELDS,
    Capabilities,
    Field,
)

from .errors import InputError

DATASETS_DIR = paths.PROJECT_ROOT / "datasets"
# Beside the repository (CI keeps the real datasets there): <repo>/../shared/data/real/<name>.
SHARED_REAL_DATA = paths.PROJECT_ROOT.parent / "shared" / "data" / "real"
SOURCE_DIR_ENV = "LOYALTY_SOURCE_DIR"
CHANNELS = ("offline", "online")
CLV_MODELS = ("bgnbd", "pareto_nbd", "auto")
FILE_FORMATS = {".csv": "csv", ".parquet": "parquet"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

TOP_KEYS = (
    "name",
    "description",
    "currency",
    "where_to_get_it",
    "python_package",
    "transactions",
    "products",
    "customers",
    "returns",
    "non_product_ids",
    "default_channel",
    "period",
    "calibration_end",
    "bounds",
    "clv_model",
)
FILE_KEYS = ("file", "columns", "delimiter")
TRANSACTION_KEYS = (*FILE_KEYS, "timestamp_format", "date_format", "timezone")
CUSTOMER_KEYS = (*FILE_KEYS, "attributes")


@dataclass(frozen=True)
class FileMapping:
    """One of the user's files: the config key it is under, its name and the user's column for
    each canonical field the config maps."""

    key: str  # transactions / products / customers
    file: str
    columns: dict[str, str]  # canonical field -> the user's column
    delimiter: str = ","  # CSV only

    @property
    def format(self) -> str:
        return FILE_FORMATS[Path(self.file).suffix.lower()]


@dataclass(frozen=True)
class Attribute:
    name: str  # as the warehouse calls it
    column: str  # the user's column in the customers file
    kind: str  # category or number
    position: int  # 1 = first in the config


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    description: str
    currency: str | None
    where_to_get_it: str | None
    python_package: tuple[str, str] | None  # (package, folder inside it) that ships the files
    transactions: FileMapping
    products: FileMapping | None
    customers: FileMapping | None
    attributes: tuple[Attribute, ...]
    timestamp_format: str | None
    date_format: str | None
    timezone_from: str | None
    timezone_to: str | None
    returns: bool
    cancellation_receipt_prefix: str | None
    non_product_ids: tuple[str, ...]
    default_channel: str
    period_start: dt.date | None
    period_end: dt.date | None
    calibration_end: dt.date | None
    max_line_amount: float | None
    max_line_quantity: int | None
    clv_model: str

    @property
    def capabilities(self) -> Capabilities:
        mapped = self.transactions.columns
        categories = self.products is not None and any(
            f"category_{level}" in self.products.columns for level in (1, 2, 3)
        )
        return Capabilities(
            has_products=True,
            has_categories=categories,
            has_business_units="business_unit" in mapped,
            has_payment_flag="payment_flag" in mapped,
            has_customer_attributes=bool(self.attributes),
            has_returns=self.returns,
        )

    def label(self) -> str:
        return config_label(self.path)


def config_label(path: Path) -> str:
    """How messages name a config: relative to the project when it is inside it."""
    try:
        return str(path.relative_to(paths.PROJECT_ROOT))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- finding a config


def is_config_reference(dataset: str) -> bool:
    """A dataset given as a config file path (or as the name of a config in datasets/)."""
    if dataset in DATASETS:
        return False
    return dataset.endswith((".yml", ".yaml")) or (DATASETS_DIR / f"{dataset}.yml").is_file()


def config_path(dataset: str) -> Path:
    """The config file of ``dataset``: a path to a .yml file, or the name of datasets/<name>.yml."""
    if dataset.endswith((".yml", ".yaml")) or os.sep in dataset:
        path = Path(dataset).expanduser().resolve()
    else:
        path = DATASETS_DIR / f"{dataset}.yml"
    if not path.is_file():
        known = sorted(p.stem for p in DATASETS_DIR.glob("*.yml"))
        raise InputError(
            f"unknown dataset {dataset!r}: no mapping config {path} "
            f"(built in: {', '.join(DATASETS)}; configs in datasets/: {', '.join(known) or 'none'})"
        )
    return path


# ----------------------------------------------------------------------------- reading one


class _Reader:
    """Reads values out of the parsed YAML; every error names the config and the key."""

    def __init__(self, label: str):
        self.label = label

    def error(self, key: str, message: str) -> InputError:
        return InputError(f"{self.label}: {key}: {message}")

    def section(self, value, key: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping of keys to values, got {type(value).__name__}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.error(
                f"{key}.{unknown[0]}" if key else str(unknown[0]),
                f"unknown key (allowed here: {', '.join(allowed)})",
            )
        return value

    def text(self, value, key: str, required: bool = False) -> str | None:
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(key, f"must be text, got {type(value).__name__}")
        return str(value)

    def date(self, value, key: str) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"must be a date YYYY-MM-DD, got {value!r}") from None

    def number(self, value, key: str, integer: bool = False) -> float | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(key, f"must be a positive number, got {value!r}")
        if integer and value != int(value):
            raise self.error(key, f"must be a whole number, got {value!r}")
        return int(value) if integer else float(value)

    def choice(self, value, key: str, choices: tuple[str, ...], default: str) -> str:
        if value is None:
            return default
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value


def _columns(reader: _Reader, section: dict, key: str, fields: tuple[Field, ...]) -> dict[str, str]:
    columns = reader.section(section.get("columns"), f"{key}.columns", tuple(f.name for f in fields))
    mapped = {}
    for field in fields:
        column = reader.text(columns.get(field.name), f"{key}.columns.{field.name}", required=field.required)
        if column is not None:
            mapped[field.name] = column
    return mapped


def _file_mapping(reader: _Reader, raw, key: str, allowed: tuple[str, ...], fields: tuple[Field, ...]):
    section = reader.section(raw, key, allowed)
    file = reader.text(section.get("file"), f"{key}.file", required=True)
    if Path(file).suffix.lower() not in FILE_FORMATS:
        raise reader.error(f"{key}.file", f"must be a .csv or .parquet file, got {file!r}")
    delimiter = reader.text(section.get("delimiter"), f"{key}.delimiter") or ","
    if len(delimiter) != 1:
        raise reader.error(f"{key}.delimiter", f"must be one character, got {delimiter!r}")
    return section, FileMapping(key, file, _columns(reader, section, key, fields), delimiter)


def _one_of_each_pair(reader: _Reader, columns: dict[str, str]) -> None:
    for pair in ONE_OF_TRANSACTION_FIELDS:
        given = [name for name in pair if name in columns]
        if len(given) != 1:
            raise reader.error(
                "transactions.columns",
                f"map exactly one of {' / '.join(pair)} (found {', '.join(given) or 'neither'})",
            )


def _attributes(reader: _Reader, raw) -> tuple[Attribute, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise reader.error("customers.attributes", "must map attribute names to a kind or {column, kind}")
    attributes = []
    for position, (name, spec) in enumerate(raw.items(), start=1):
        key = f"customers.attributes.{name}"
        if not _ATTRIBUTE_NAME.fullmatch(str(name)) or name == "customer_id":
            raise reader.error(key, "an attribute name is a letter or _ followed by letters, digits, _")
        if isinstance(spec, dict):
            spec = reader.section(spec, key, ("column", "kind"))
            column = reader.text(spec.get("column"), f"{key}.column") or str(name)
            kind = spec.get("kind")
        else:
            column, kind = str(name), spec
        if kind is None:  # no default: a number read as a category (or back) would change every model
            raise reader.error(key, f"needs a kind: one of {', '.join(ATTRIBUTE_KINDS)}")
        attributes.append(Attribute(str(name), column, reader.choice(kind, key, ATTRIBUTE_KINDS, ""), position))
    return tuple(attributes)


def _timezone(reader: _Reader, raw) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    section = reader.section(raw, "transactions.timezone", ("from", "to"))
    names = [reader.text(section.get(end), f"transactions.timezone.{end}", required=True) for end in ("from", "to")]
    import duckdb

    for end, name in zip(("from", "to"), names):
        try:
            duckdb.sql("select timezone(?, timestamptz '2000-01-01 00:00:00+00')", params=[name]).fetchall()
        except duckdb.Error:
            raise reader.error(f"transactions.timezone.{end}", f"unknown time zone {name!r}") from None
    return names[0], names[1]


def _python_package(reader: _Reader, raw) -> tuple[str, str] | None:
    if raw is None:
        return None
    section = reader.section(raw, "python_package", ("name", "folder"))
    return (
        reader.text(section.get("name"), "python_package.name", required=True),
        reader.text(section.get("folder"), "python_package.folder") or "",
    )


def _non_product_ids(reader: _Reader, raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise reader.error("non_product_ids", "must be a list of product ids")
    return tuple(reader.text(value, f"non_product_ids[{i}]", required=True) for i, value in enumerate(raw))


def _returns(reader: _Reader, top: dict) -> tuple[bool, str | None]:
    """`returns:` present (even empty) = the data records returns; an optional cancellation rule."""
    if "returns" not in top:
        return False, None
    raw = top["returns"]
    if raw is None or raw is True or raw == {}:
        return True, None
    section = reader.section(raw, "returns", ("cancellation_receipt_prefix",))
    prefix = reader.text(section.get("cancellation_receipt_prefix"), "returns.cancellation_receipt_prefix")
    if prefix == "":
        raise reader.error("returns.cancellation_receipt_prefix", "must not be empty")
    return True, prefix


def _bounds(reader: _Reader, raw) -> tuple[float | None, int | None]:
    if raw is None:
        return None, None
    section = reader.section(raw, "bounds", ("max_line_amount", "max_line_quantity"))
    amount = reader.number(section.get("max_line_amount"), "bounds.max_line_amount")
    if amount is not None and amount >= MONEY_LIMIT:
        raise reader.error("bounds.max_line_amount", f"must be below {MONEY_LIMIT:.0e} (money is DECIMAL(18,4))")
    return amount, reader.number(section.get("max_line_quantity"), "bounds.max_line_quantity", integer=True)


def load(path: str | Path) -> Mapping:
    """Read and check a mapping config (keys, values); raises InputError naming the key."""
    path = Path(path).resolve()
    reader = _Reader(config_label(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InputError(f"{reader.label}: not valid YAML: {error}") from None
    top = reader.section(raw if raw is not None else {}, "", TOP_KEYS)
    name = reader.text(top.get("name"), "name", required=True)
    if not _NAME.fullmatch(name) or name in DATASETS or name == "warehouse":
        raise reader.error(
            "name", f"must be lower case letters, digits and _ (not {', '.join(DATASETS)}), got {name!r}"
        )
    tx_section, transactions = _file_mapping(
        reader, top.get("transactions"), "transactions", TRANSACTION_KEYS, TRANSACTION_FIELDS
    )
    _one_of_each_pair(reader, transactions.columns)
    products = customers = None
    attributes: tuple[Attribute, ...] = ()
    if top.get("products") is not None:
        _, products = _file_mapping(reader, top["products"], "products", FILE_KEYS, PRODUCT_FIELDS)
    if top.get("customers") is not None:
        section, customers = _file_mapping(reader, top["customers"], "customers", CUSTOMER_KEYS, CUSTOMER_FIELDS)
        attributes = _attributes(reader, section.get("attributes"))
    period = reader.section(top.get("period") or {}, "period", ("start", "end"))
    returns, prefix = _returns(reader, top)
    max_amount, max_quantity = _bounds(reader, top.get("bounds"))
    timezone_from, timezone_to = _timezone(reader, tx_section.get("timezone"))
    mapping = Mapping(
        path=path,
        name=name,
        description=reader.text(top.get("description"), "description") or f"{name} (mapping config {path.name})",
        currency=reader.text(top.get("currency"), "currency"),
        where_to_get_it=reader.text(top.get("where_to_get_it"), "where_to_get_it"),
        python_package=_python_package(reader, top.get("python_package")),
        transactions=transactions,
        products=products,
        customers=customers,
        attributes=attributes,
        timestamp_format=reader.text(tx_section.get("timestamp_format"), "transactions.timestamp_format"),
        date_format=reader.text(tx_section.get("date_format"), "transactions.date_format"),
        timezone_from=timezone_from,
        timezone_to=timezone_to,
        returns=returns,
        cancellation_receipt_prefix=prefix,
        non_product_ids=_non_product_ids(reader, top.get("non_product_ids")),
        default_channel=reader.choice(top.get("default_channel"), "default_channel", CHANNELS, "offline"),
        period_start=reader.date(period.get("start"), "period.start"),
        period_end=reader.date(period.get("end"), "period.end"),
        calibration_end=reader.date(top.get("calibration_end"), "calibration_end"),
        max_line_amount=max_amount,
        max_line_quantity=max_quantity,
        clv_model=reader.choice(top.get("clv_model"), "clv_model", CLV_MODELS, "bgnbd"),
    )
    if mapping.period_start and mapping.period_end and mapping.period_start > mapping.period_end:
        raise reader.error("period", f"start {mapping.period_start} is after end {mapping.period_end}")
    return mapping


# ----------------------------------------------------------------------------- finding the files


def _package_folder(package: tuple[str, str] | None) -> Path | None:
    """The folder inside an installed package that ships the files (found without importing it)."""
    if package is None:
        return None
    spec = importlib.util.find_spec(package[0])
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) / package[1] if locations else None


def source_dir(mapping: Mapping, explicit: str | Path | None = None) -> Path:
    """Where the dataset's files are: ``explicit`` (--source-dir / --raw-dir), else
    $LOYALTY_SOURCE_DIR, else ../shared/data/real/<name> beside the repository, else the folder
    of the config's python_package; otherwise an error saying where to get the data."""
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    if os.environ.get(SOURCE_DIR_ENV):
        return Path(os.environ[SOURCE_DIR_ENV]).expanduser().resolve()
    candidates = [SHARED_REAL_DATA / mapping.name, _package_folder(mapping.python_package)]
    for candidate in candidates:
        if candidate is not None and (candidate / mapping.transactions.file).is_file():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates if c is not None)
    hint = f" {mapping.where_to_get_it.strip()}" if mapping.where_to_get_it else ""
    raise InputError(
        f"{mapping.label()}: the data files of {mapping.name} were not found (looked in {looked}).{hint} "
        f"Then pass --source-dir DIR (make demo DATASET={mapping.name} SOURCE_DIR=DIR) or set {SOURCE_DIR_ENV}."
    )
