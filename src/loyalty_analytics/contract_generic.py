"""The generic contract (``GENERIC``, dbt source ``retail``): the canonical fields a mapping
config (``datasets/*.yml``, docs/input_contract.md) names the user's columns for, and the three
canonical Parquet tables ingest writes from them. Re-exported by ``loyalty_analytics.contract``."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty_analytics.contract_types import (
    CODE,
    FLAG,
    INT,
    KEY,
    MONEY,
    NUMBER,
    RETAIL,
    ROW,
    TEXT,
    TIMESTAMP,
    Affiliate,
    Capabilities,
    Column,
    Dataset,
    Table,
)

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
