"""The pandas peer: a plain pandas implementation of three SQL feature marts, used only by
the benchmark (time it against the dbt models) and by tests/python/test_pandas_peer.py
(its outputs must equal the marts).

It reads the same prepared CSV files dbt reads (data/prepared/*.csv, written by
`loyalty_analytics.ingest`), keeps only the rows the staging models keep (the quarantine
rules of int_purchase_lines_checked / int_service_uses_checked), builds the canonical
transactions (clean PDDE lines + clean COP_U rows, as int_transactions) and computes:

- ``rfm``          ≙ marts.customer_rfm: lifetimes-style frequency / recency / T /
                     monetary_value and classic days_since_last_purchase, n_receipts, total_spend;
- ``preference``   ≙ marts.customer_product_preference (macro preference_scores: category and
                     interval levels = min(5, floor(6 × percent_rank)) per affiliate, buy level 0
                     for a single purchase else 1 + floor(5 × percent_rank) among the affiliate's
                     repeat pairs, fallback intervals, weights = the dbt vars, rounded to 6 decimals);
- ``sessions``     ≙ marts.customer_sessions: offline customer × affiliate × hour, online
                     customer × affiliate × day; lines, units, spend per session.

Not product code: nothing in src/ or models/ imports it.

    python -m bench.pandas_peer data/prepared        # prints timings and row counts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty_analytics.contract import LPOINT

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AFFILIATES_SEED = PROJECT_ROOT / "seeds" / "affiliates.csv"

DEMO, PDDE, COP_U, PD_CLAC = (LPOINT.table(name) for name in ("demo", "pdde", "cop_u", "pd_clac"))
PDDE_COLUMNS = list(PDDE.column_names)
COP_U_COLUMNS = list(COP_U.column_names)
# The types the dbt sources declare (numbers as numbers so that duplicates compare as DuckDB does).
NUMERIC = {
    column.name: "float64" for table in LPOINT.tables for column in table.columns if column.sql_type != "VARCHAR"
}
PERIOD = (LPOINT.period.start.isoformat(), LPOINT.period.end.isoformat())

DBT_PROJECT = PROJECT_ROOT / "dbt_project.yml"


def preference_weights() -> dict[str, str]:
    """The vars preference_weight_{buy,category,interval} of dbt_project.yml, as written."""
    import yaml

    variables = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    return {k: str(variables[f"preference_weight_{k}"]) for k in ("buy", "category", "interval")}


def plausibility_bounds() -> tuple[float, float]:
    """The vars max_line_amount (KRW) and max_line_quantity (units) of dbt_project.yml."""
    import yaml

    variables = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    return float(variables["max_line_amount"]), float(variables["max_line_quantity"])


@dataclass
class PeerResult:
    rfm: pd.DataFrame
    preference: pd.DataFrame
    sessions: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    csv_engine: str = "c"

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def _csv_engine() -> str:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow ships with the venv
        return "c"
    return "pyarrow"


def _read(path: Path, columns: list[str], engine: str) -> pd.DataFrame:
    dtype = {c: NUMERIC.get(c, "str") for c in columns}
    frame = pd.read_csv(
        path, header=0, names=columns, dtype=dtype, engine=engine, keep_default_na=False, na_values=[""]
    )
    # DuckDB's read_csv reads an empty field as NULL: do the same whatever the engine.
    for column in columns:
        if column not in NUMERIC:
            frame[column] = frame[column].replace("", np.nan)
    return frame


def _dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%Y%m%d")


def load_transactions(
    prepared_dir: Path, period: tuple[str, str] = PERIOD, engine: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean PDDE lines (with product categories) and the canonical transactions
    (clean PDDE lines + clean COP_U rows)."""
    prepared_dir = Path(prepared_dir)
    engine = engine or _csv_engine()
    affiliates = pd.read_csv(AFFILIATES_SEED, dtype=str)
    retail = set(affiliates.loc[affiliates.affiliate_kind == "retail", "affiliate_code"])
    service = set(affiliates.loc[affiliates.affiliate_kind == "service", "affiliate_code"])
    customers = _read(prepared_dir / DEMO.file, list(DEMO.column_names), engine)
    products = _read(prepared_dir / PD_CLAC.file, list(PD_CLAC.column_names), engine)
    known_customers = customers["cust"].dropna().unique()
    start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    max_amount, max_quantity = plausibility_bounds()

    # PDDE: the quarantine rules of int_purchase_lines_checked (first copy of a duplicate is kept).
    pdde = _read(prepared_dir / PDDE.file, PDDE_COLUMNS, engine)
    pdde["purchase_date"] = _dates(pdde["de_dt"])
    clean = (
        ~pdde.duplicated(subset=PDDE_COLUMNS, keep="first")
        & pdde["cust"].isin(known_customers)
        & pdde["pd_c"].isin(products["pd_c"].dropna().unique())
        & pdde["cop_c"].isin(retail)
        & pdde["chnl_dv"].isin([1, 2])
        & pdde["buy_am"].between(0, max_amount, inclusive="right")
        & pdde["buy_ct"].between(0, max_quantity, inclusive="right")
        & pdde["purchase_date"].between(start, end)
    )
    pdde = pdde.loc[clean]
    lines = pd.DataFrame(
        {
            "customer_id": pdde["cust"],
            "receipt_id": pdde["rct_no"],
            "affiliate_code": pdde["cop_c"],
            "channel": np.where(pdde["chnl_dv"] == 1, "offline", "online"),
            "product_code": pdde["pd_c"],
            "purchase_date": pdde["purchase_date"],
            "purchase_hour": pdde["de_hr"].astype("int64"),
            "spend": pdde["buy_am"],
            "quantity": pdde["buy_ct"].astype("int64"),
        }
    )
    # int_purchase_lines: inner join with the catalogue for the major category.
    lines = lines.merge(
        products[["pd_c", "clac_hlv_nm"]].rename(columns={"pd_c": "product_code", "clac_hlv_nm": "category_major"}),
        on="product_code",
        how="inner",
    )

    # COP_U: the rules of int_service_uses_checked.
    cop = _read(prepared_dir / COP_U.file, COP_U_COLUMNS, engine)
    cop["purchase_date"] = _dates(cop["de_dt"])
    clean = (
        ~cop.duplicated(subset=COP_U_COLUMNS, keep="first")
        & cop["cust"].isin(known_customers)
        & cop["cop_c"].isin(service)
        & cop["chnl_dv"].isin([1, 2])
        & cop["buy_am"].between(0, max_amount, inclusive="right")
        & cop["purchase_date"].between(start, end)
    )
    cop = cop.loc[clean]
    transactions = pd.concat(
        [
            lines[["customer_id", "receipt_id", "purchase_date", "spend"]],
            pd.DataFrame(
                {
                    "customer_id": cop["cust"],
                    "receipt_id": cop["rct_no"],
                    "purchase_date": cop["purchase_date"],
                    "spend": cop["buy_am"],
                }
            ),
        ],
        ignore_index=True,
    )
    return lines, transactions


def rfm(transactions: pd.DataFrame, observation_end: pd.Timestamp) -> pd.DataFrame:
    """customer_rfm's lifetimes summary and classic RFM (days)."""
    tx = transactions.loc[transactions["purchase_date"] <= observation_end]
    # int_receipts: one row per customer × receipt (date = first line's date).
    receipts = (
        tx.groupby(["customer_id", "receipt_id"], sort=False)
        .agg(purchase_date=("purchase_date", "min"), spend=("spend", "sum"))
        .reset_index()
    )
    # int_customer_daily_spend
    days = receipts.groupby(["customer_id", "purchase_date"], sort=False)["spend"].sum().reset_index(name="spend")
    first = days.groupby("customer_id")["purchase_date"].transform("min")
    days["repeat_spend"] = days["spend"].where(days["purchase_date"] > first)
    summary = days.groupby("customer_id").agg(
        first_purchase_date=("purchase_date", "min"),
        last_purchase_date=("purchase_date", "max"),
        n_purchase_days=("purchase_date", "size"),
        repeat_spend=("repeat_spend", "sum"),
    )
    receipts_per_customer = receipts.groupby("customer_id").agg(
        n_receipts=("receipt_id", "size"), total_spend=("spend", "sum")
    )
    out = summary.join(receipts_per_customer, how="inner")
    n_days = out["n_purchase_days"]
    out["frequency"] = (n_days - 1).astype("float64")
    out["recency"] = (out["last_purchase_date"] - out["first_purchase_date"]).dt.days.astype("float64")
    out["T"] = (observation_end - out["first_purchase_date"]).dt.days.astype("float64")
    out["monetary_value"] = np.where(n_days > 1, out["repeat_spend"] / (n_days - 1).where(n_days > 1), 0.0)
    out["days_since_last_purchase"] = (observation_end - out["last_purchase_date"]).dt.days
    columns = [
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "days_since_last_purchase",
        "n_purchase_days",
        "n_receipts",
        "total_spend",
    ]
    return out[columns].reset_index().sort_values("customer_id", ignore_index=True)


def _percentile_level(values: pd.Series, affiliate: pd.Series) -> pd.Series:
    """min(5, floor(6 × percent_rank())) per affiliate, percent_rank = (rank − 1) / (n − 1)."""
    rank = values.groupby(affiliate).rank(method="min")
    n = values.groupby(affiliate).transform("size")
    percent_rank = ((rank - 1) / (n - 1)).where(n > 1, 0.0)
    return np.minimum(5, np.floor(6 * percent_rank)).astype("int64")


def preference(lines: pd.DataFrame, as_of: pd.Timestamp, weights: dict[str, str] | None = None) -> pd.DataFrame:
    """macro preference_scores(as_of) over the clean purchase lines (weights: the dbt vars)."""
    lines = lines.loc[lines["purchase_date"] <= as_of]
    pair = ["affiliate_code", "customer_id", "product_code"]
    pair_receipts = (
        lines.groupby(pair + ["receipt_id"], sort=False)
        .agg(
            purchase_date=("purchase_date", "min"),
            category_major=("category_major", "first"),
            n_lines=("purchase_date", "size"),
        )
        .reset_index()
    )
    pair_days = (
        pair_receipts.groupby(pair + ["purchase_date"], sort=False)
        .agg(category_major=("category_major", "first"), n_receipts=("n_lines", "size"), n_lines=("n_lines", "sum"))
        .reset_index()
    )
    pairs = (
        pair_days.groupby(pair, sort=False)
        .agg(
            category_major=("category_major", "first"),
            n_purchases=("n_receipts", "sum"),
            n_purchase_days=("purchase_date", "size"),
            first_purchase_date=("purchase_date", "min"),
            last_purchase_date=("purchase_date", "max"),
            n_lines=("n_lines", "sum"),
        )
        .reset_index()
    )
    span = (pairs["last_purchase_date"] - pairs["first_purchase_date"]).dt.days
    pairs["own_mean_interval_days"] = (span / (pairs["n_purchase_days"] - 1.0)).where(pairs["n_purchase_days"] > 1)

    customer_lines = pairs.groupby(["affiliate_code", "customer_id"])["n_lines"].sum().rename("customer_lines")
    customer_category = pairs.groupby(["affiliate_code", "customer_id", "category_major"]).agg(
        category_lines=("n_lines", "sum"), customer_category_max_interval=("own_mean_interval_days", "max")
    )
    affiliate_category = (
        pairs.groupby(["affiliate_code", "category_major"])["own_mean_interval_days"]
        .max()
        .rename("affiliate_category_max_interval")
    )
    history_days = max(1, (as_of - lines["purchase_date"].min()).days + 1)

    out = (
        pairs.join(customer_lines, on=["affiliate_code", "customer_id"])
        .join(customer_category, on=["affiliate_code", "customer_id", "category_major"])
        .join(affiliate_category, on=["affiliate_code", "category_major"])
    )
    out["mean_interval_days"] = (
        out["own_mean_interval_days"]
        .fillna(out["customer_category_max_interval"])
        .fillna(out["affiliate_category_max_interval"])
        .fillna(float(history_days))
    )
    out["interval_is_fallback"] = out["own_mean_interval_days"].isna()
    out["category_share"] = out["category_lines"] / out["customer_lines"]
    out["interval_ratio"] = ((as_of - out["last_purchase_date"]).dt.days + 1) / out["mean_interval_days"]
    affiliate = out["affiliate_code"]
    # buy_level: 0 for a pair bought once; a repeat pair gets 1 + floor(5 × percent_rank) among
    # the affiliate's repeat pairs (capped at 5).
    repeat = out["n_purchases"] > 1
    rank = out["n_purchases"].groupby([affiliate, repeat]).rank(method="min")
    n = out["n_purchases"].groupby([affiliate, repeat]).transform("size")
    percent_rank = ((rank - 1) / (n - 1)).where(n > 1, 0.0)
    out["buy_level"] = np.where(repeat, np.minimum(5, 1 + np.floor(5 * percent_rank)), 0).astype("int64")
    out["category_level"] = _percentile_level(out["category_share"], affiliate)
    out["interval_level"] = _percentile_level(out["interval_ratio"], affiliate)
    # SQL multiplies exact decimal literals (0.6 × level): integer multiples of 10^-d here.
    weights = weights or preference_weights()
    digits = max(len(w.split(".")[1]) if "." in w else 0 for w in weights.values())
    scaled = {k: round(float(w) * 10**digits) for k, w in weights.items()}
    weighted = (
        scaled["buy"] * out["buy_level"]
        + scaled["category"] * out["category_level"]
        + scaled["interval"] * out["interval_level"]
    )
    out["preference_score"] = (weighted / 10.0**digits).round(6)
    columns = pair + [
        "category_major",
        "n_purchases",
        "n_purchase_days",
        "first_purchase_date",
        "last_purchase_date",
        "own_mean_interval_days",
        "mean_interval_days",
        "interval_is_fallback",
        "category_share",
        "interval_ratio",
        "buy_level",
        "category_level",
        "interval_level",
        "preference_score",
    ]
    return out[columns].sort_values(pair, ignore_index=True)


def _session_id(customer: str, affiliate: str, channel: str, start: str) -> str:
    return hashlib.md5(f"{customer}|{affiliate}|{channel}|{start}".encode()).hexdigest()[:16]


def sessions(lines: pd.DataFrame, observation_end: pd.Timestamp) -> pd.DataFrame:
    """int_sessions / customer_sessions: offline per hour, online per day."""
    hours = pd.to_timedelta(lines["purchase_hour"], unit="h")
    session_start = lines["purchase_date"].where(lines["channel"] == "online", lines["purchase_date"] + hours)
    keyed = lines.assign(session_start=session_start)
    keys = ["customer_id", "affiliate_code", "channel", "session_start"]
    out = (
        keyed.groupby(keys, sort=False)
        .agg(n_lines=("quantity", "size"), n_units=("quantity", "sum"), spend=("spend", "sum"))
        .reset_index()
    )
    out = out.loc[out["session_start"].dt.normalize() <= observation_end]
    starts = out["session_start"].dt.strftime("%Y-%m-%d %H")
    out.insert(
        0,
        "session_id",
        [
            _session_id(c, a, ch, s)
            for c, a, ch, s in zip(out["customer_id"], out["affiliate_code"], out["channel"], starts)
        ],
    )
    return out.sort_values("session_id", ignore_index=True)


def run(prepared_dir: Path, observation_end: str | None = None, engine: str | None = None) -> PeerResult:
    """All three features with per-step wall seconds (load = read CSVs + quarantine filters)."""
    engine = engine or _csv_engine()
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    lines, transactions = load_transactions(prepared_dir, engine=engine)
    # int_run_parameters: observation_end = the var, else the last transaction date.
    obs = pd.Timestamp(observation_end) if observation_end else transactions["purchase_date"].max()
    seconds["load"] = time.perf_counter() - start
    start = time.perf_counter()
    rfm_frame = rfm(transactions, obs)
    seconds["rfm"] = time.perf_counter() - start
    start = time.perf_counter()
    preference_frame = preference(lines, obs)
    seconds["preference"] = time.perf_counter() - start
    start = time.perf_counter()
    sessions_frame = sessions(lines, obs)
    seconds["sessions"] = time.perf_counter() - start
    return PeerResult(rfm_frame, preference_frame, sessions_frame, {k: round(v, 3) for k, v in seconds.items()}, engine)


# Column sums the benchmark compares with the same sums over the marts (CHECKSUM_SQL).
CHECKSUM_COLUMNS = {
    "rfm": ["frequency", "recency", "T", "monetary_value", "days_since_last_purchase", "n_receipts", "total_spend"],
    "preference": ["n_purchases", "interval_ratio", "category_share", "preference_score"],
    "sessions": ["n_lines", "n_units", "spend"],
}
CHECKSUM_MARTS = {"rfm": "customer_rfm", "preference": "customer_product_preference", "sessions": "customer_sessions"}


def checksums(result: PeerResult) -> dict:
    frames = {"rfm": result.rfm, "preference": result.preference, "sessions": result.sessions}
    return {
        name: {"rows": len(frames[name]), **{c: float(frames[name][c].sum()) for c in columns}}
        for name, columns in CHECKSUM_COLUMNS.items()
    }


def checksum_sql(name: str) -> str:
    sums = ", ".join(f'sum("{c}")::double' for c in CHECKSUM_COLUMNS[name])
    return f"select count(*), {sums} from marts.{CHECKSUM_MARTS[name]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prepared_dir", type=Path)
    parser.add_argument("--engine", choices=["c", "pyarrow"], default=None, help="pandas CSV engine")
    parser.add_argument("--json", type=Path, default=None, help="write timings and row counts here")
    args = parser.parse_args(argv)
    result = run(args.prepared_dir, engine=args.engine)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "csv_engine": result.csv_engine,
                    "seconds": result.seconds,
                    "total_seconds": round(result.total_seconds, 3),
                    "rows": {
                        "rfm": len(result.rfm),
                        "preference": len(result.preference),
                        "sessions": len(result.sessions),
                    },
                    "checksums": checksums(result),
                },
                indent=2,
            )
        )
    print(f"CSV engine: {result.csv_engine}")
    for step, secs in result.seconds.items():
        print(f"  {step:<12} {secs:8.2f} s")
    print(f"  {'total':<12} {result.total_seconds:8.2f} s")
    print(f"rows: rfm {len(result.rfm):,}  preference {len(result.preference):,}  sessions {len(result.sessions):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
