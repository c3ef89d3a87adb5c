"""The DuckDB reference: the three SQL feature marts computed by one plain SQL script on one
DuckDB connection, without dbt — what the dbt models would cost with no framework around
them. Used only by the benchmark (the dbt SQL layer should take at most twice as long) and by
tests/python/test_duckdb_reference.py (its outputs must equal the marts, every column).

It reads the same prepared CSV files dbt reads (data/prepared/*.csv, written by
`loyalty_analytics.ingest`), keeps only the rows the staging models keep (the quarantine
rules of int_purchase_lines_checked / int_service_uses_checked / int_lpay_payments_checked;
a duplicate is an exact copy, so the distinct rows are the first copies), builds the
canonical transactions (clean PDDE lines + clean COP_U rows, flagged when a clean L.Pay
payment paid their receipt, as int_transactions) and computes:

- ``rfm``          ≙ marts.customer_rfm: lifetimes-style frequency / recency / T /
                     monetary_value, classic RFM with its tie-aware quintile scores and cell,
                     the L.Pay / other spend split, L.Pay payments, online spend and grade;
                     the return columns are null (L.Point records no returns);
- ``preference``   ≙ marts.customer_product_preference (macro preference_scores: category and
                     interval levels = min(5, floor(6 × percent_rank)) per affiliate, buy level 0
                     for a single purchase else 1 + floor(5 × percent_rank) among the affiliate's
                     repeat pairs, fallback intervals, weights = the dbt vars, rounded to 6 decimals);
- ``sessions``     ≙ marts.customer_sessions: offline customer × affiliate × hour, online
                     customer × affiliate × day; lines, units, spend, products, categories and the
                     L.Pay flag per session.

The clean rows and transactions are in-memory temporary tables; the three results are written to
a DuckDB file, as dbt writes its marts. DuckDB uses all cores, as in the dbt build. Not product
code: nothing in src/ or models/ imports it.

    python -m bench.duckdb_reference data/prepared   # prints timings and row counts
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from bench.pandas_peer import checksums, plausibility_bounds, preference_weights
from loyalty_analytics.contract import LPOINT

DEMO, PDDE, COP_U, PD_CLAC, LPAY = (LPOINT.table(name) for name in ("demo", "pdde", "cop_u", "pd_clac", "lpay"))
# Row order of each output, as the pandas peer and the tests sort them.
ORDER = {
    "rfm": "customer_id",
    "preference": "affiliate_code, customer_id, product_code",
    "sessions": "session_id",
}


@dataclass
class ReferenceResult:
    rfm: pd.DataFrame
    preference: pd.DataFrame
    sessions: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    types: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # per output: (column, DuckDB type)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_csv(prepared_dir: Path, table) -> str:
    """read_csv of a prepared file with the names and types the dbt source declares."""
    names = ", ".join(_text(name) for name in table.column_names)
    types = ", ".join(_text(column.sql_type) for column in table.columns)
    path = _text(str(Path(prepared_dir) / table.file))
    return f"read_csv({path}, header = true, delim = ',', quote = '\"', names = [{names}], types = [{types}])"


def _affiliates_sql() -> str:
    rows = ", ".join(f"({_text(a.code)}, {_text(a.kind)})" for a in LPOINT.affiliates)
    return f"select * from (values {rows}) as affiliates (affiliate_code, affiliate_kind)"


def _clean_rows_sql(prepared_dir: Path) -> list[str]:
    """Temp tables of the rows the checked models keep (macro quarantine_reason's ladder)."""
    max_amount, max_quantity = plausibility_bounds()
    period = f"date '{LPOINT.period.start.isoformat()}' and date '{LPOINT.period.end.isoformat()}'"
    amount_ok = f"buy_am > 0 and buy_am <= {max_amount!r}"
    day = "cast(strptime(de_dt, '%Y%m%d') as date)"
    channel = "case chnl_dv when 1 then 'offline' when 2 then 'online' end"
    return [
        f"create or replace temp table affiliates as {_affiliates_sql()}",
        f"create or replace temp table customers as select distinct cust as customer_id "
        f"from {_read_csv(prepared_dir, DEMO)} where cust is not null",
        f"create or replace temp table products as select pd_c as product_code, clac_hlv_nm as category_major "
        f"from {_read_csv(prepared_dir, PD_CLAC)}",
        # PDDE: the clean lines with their product's major category (int_purchase_lines)
        f"""
        create or replace temp table lines as
        with distinct_rows as (
            select distinct cust, rct_no, chnl_dv, cop_c, nullif(trim(br_c), '') as store_id, pd_c, de_dt, de_hr,
                buy_am, buy_ct
            from {_read_csv(prepared_dir, PDDE)}
        )
        select
            cust as customer_id, rct_no as receipt_id, cop_c as affiliate_code, {channel} as channel,
            pd_c as product_code, products.category_major, {day} as purchase_date,
            {day} + to_hours(de_hr) as purchased_at, cast(buy_am as decimal(18, 4)) as spend, buy_ct as quantity
        from distinct_rows
        inner join products on distinct_rows.pd_c = products.product_code
        where cust in (select customer_id from customers)
            and cop_c in (select affiliate_code from affiliates where affiliate_kind = 'retail')
            and chnl_dv in (1, 2) and {amount_ok} and buy_ct > 0 and buy_ct <= {max_quantity!r}
            and {day} between {period}
        """,
        f"""
        create or replace temp table service_uses as
        with distinct_rows as (
            select distinct cust, rct_no, cop_c, nullif(trim(br_c), '') as store_id, chnl_dv, de_dt, vst_dt, de_hr,
                buy_am
            from {_read_csv(prepared_dir, COP_U)}
        )
        select
            cust as customer_id, rct_no as receipt_id, cop_c as affiliate_code, {channel} as channel,
            {day} as purchase_date, cast(buy_am as decimal(18, 4)) as spend
        from distinct_rows
        where cust in (select customer_id from customers)
            and cop_c in (select affiliate_code from affiliates where affiliate_kind = 'service')
            and chnl_dv in (1, 2) and {amount_ok} and {day} between {period}
        """,
        # L.Pay: an affiliate payment (not L00/L01) needs a clean receipt of its customer
        f"""
        create or replace temp table lpay_payments as
        with distinct_rows as (
            select distinct cust, rct_no, cop_c, chnl_dv, de_dt, de_hr, buy_am
            from {_read_csv(prepared_dir, LPAY)}
        ),
        clean_receipts as (
            select customer_id, receipt_id from lines
            union
            select customer_id, receipt_id from service_uses
        )
        select
            cust as customer_id, rct_no as receipt_id, {day} as payment_date,
            affiliates.affiliate_kind = 'lpay' as is_outside_affiliates
        from distinct_rows
        inner join affiliates on distinct_rows.cop_c = affiliates.affiliate_code
        where cust in (select customer_id from customers)
            and chnl_dv in (1, 2) and {amount_ok} and {day} between {period}
            and (
                affiliates.affiliate_kind = 'lpay'
                or exists (
                    select 1 from clean_receipts
                    where clean_receipts.customer_id = cust and clean_receipts.receipt_id = rct_no
                )
            )
        """,
    ]


def _transactions_sql(observation_end: str | None) -> list[str]:
    """int_transactions (clean lines + service uses, paid_with_lpay) and the run's anchor date."""
    anchor = f"date '{observation_end}'" if observation_end else "(select max(purchase_date) from transactions)"
    return [
        """
        create or replace temp table transactions as
        with lpay_paid_receipts as (
            select distinct customer_id, receipt_id from lpay_payments where not is_outside_affiliates
        ),
        spend_events as (
            select customer_id, receipt_id, channel, purchase_date, spend from lines
            union all
            select customer_id, receipt_id, channel, purchase_date, spend from service_uses
        )
        select spend_events.*, lpay_paid_receipts.receipt_id is not null as paid_with_lpay
        from spend_events
        left join lpay_paid_receipts using (customer_id, receipt_id)
        """,
        f"create or replace temp table params as select {anchor} as observation_end",
    ]


RFM_SQL = """
create or replace table rfm as
with receipts as (
    select
        customer_id,
        receipt_id,
        any_value(channel) as channel,
        min(purchase_date) as purchase_date,
        sum(spend) as spend,
        bool_or(paid_with_lpay) as paid_with_lpay
    from transactions
    group by customer_id, receipt_id
    having min(purchase_date) <= (select observation_end from params)
),
days as (
    select customer_id, purchase_date, sum(spend) as spend
    from receipts
    group by customer_id, purchase_date
),
summary as (
    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as n_purchase_days
    from days
    group by customer_id
),
repeat_days as (
    select days.customer_id, sum(days.spend) as repeat_spend
    from days
    inner join summary using (customer_id)
    where days.purchase_date > summary.first_purchase_date
    group by days.customer_id
),
receipt_totals as (
    select
        customer_id,
        count(*) as n_receipts,
        sum(spend) as total_spend,
        coalesce(sum(spend) filter (where paid_with_lpay), 0) as lpay_spend,
        coalesce(sum(spend) filter (where not paid_with_lpay), 0) as other_spend,
        count(*) filter (where paid_with_lpay) as lpay_receipts,
        coalesce(sum(spend) filter (where channel = 'online'), 0) as online_spend
    from receipts
    group by customer_id
),
payments as (
    select customer_id, count(*) as lpay_payments
    from lpay_payments
    where payment_date <= (select observation_end from params)
    group by customer_id
),
customers as (
    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        cast(n_purchase_days - 1 as double) as frequency,
        cast(date_diff('day', first_purchase_date, last_purchase_date) as double) as recency,
        cast(date_diff('day', first_purchase_date, (select observation_end from params)) as double) as T,
        coalesce(repeat_days.repeat_spend / nullif(n_purchase_days - 1, 0), 0) as monetary_value,
        date_diff('day', last_purchase_date, (select observation_end from params)) as days_since_last_purchase,
        n_purchase_days,
        n_receipts,
        cast(total_spend as double) as total_spend,
        cast(lpay_spend as double) as lpay_spend,
        cast(other_spend as double) as other_spend,
        lpay_receipts,
        coalesce(payments.lpay_payments, 0) as lpay_payments,
        cast(online_spend as double) as online_spend
    from summary
    inner join receipt_totals using (customer_id)
    left join repeat_days using (customer_id)
    left join payments using (customer_id)
),
-- tie-aware equal-frequency buckets (macro rank_bucket): equal values share a bucket
scored as (
    select
        *,
        cast(1 + floor(5.0 * (rank() over (order by days_since_last_purchase desc) - 1) / count(*) over ())
            as integer) as r_score,
        cast(1 + floor(5.0 * (rank() over (order by n_receipts asc) - 1) / count(*) over ()) as integer) as f_score,
        cast(1 + floor(5.0 * (rank() over (order by total_spend asc) - 1) / count(*) over ()) as integer) as m_score
    from customers
),
online_graded as (
    select
        customer_id,
        cast(1 + floor(4.0 * (rank() over (order by online_spend desc) - 1) / count(*) over ()) as integer)
            as online_quartile
    from customers
    where online_spend > 0
)
select
    customer_id, first_purchase_date, last_purchase_date, frequency, recency, T, monetary_value,
    days_since_last_purchase, n_purchase_days, n_receipts, total_spend, r_score, f_score, m_score,
    'R' || r_score || 'F' || f_score || 'M' || m_score as rfm_cell,
    lpay_spend, other_spend, lpay_receipts, lpay_payments, online_spend,
    case online_quartile when 1 then 'VIP' when 2 then 'G3' when 3 then 'G2' when 4 then 'G1' end as online_grade,
    cast(null as bigint) as returned_lines,
    cast(null as double) as returned_spend,
    cast(null as double) as return_line_rate,
    cast(null as double) as return_spend_share
from scored
left join online_graded using (customer_id)
"""


def _preference_sql(weights: dict[str, str]) -> str:
    """macro preference_scores(observation_end) in one statement."""
    score = " + ".join(f"{weights[level]} * {level}_level" for level in ("buy", "category", "interval"))
    return f"""
create or replace table preference as
with pair_receipts as (
    select affiliate_code, customer_id, product_code, receipt_id, min(purchase_date) as purchase_date,
        count(*) as n_lines
    from lines
    group by affiliate_code, customer_id, product_code, receipt_id
    having min(purchase_date) <= (select observation_end from params)
),
pairs as (
    select
        affiliate_code, customer_id, product_code,
        count(*) as n_purchases,
        count(distinct purchase_date) as n_purchase_days,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(n_lines) as n_lines
    from pair_receipts
    group by affiliate_code, customer_id, product_code
),
with_interval as (
    select
        pairs.*,
        products.category_major,
        case when n_purchase_days > 1
            then date_diff('day', first_purchase_date, last_purchase_date) / (n_purchase_days - 1.0)
        end as own_mean_interval_days
    from pairs
    inner join products using (product_code)
),
history as (
    select greatest(1, date_diff('day', min(first_purchase_date), (select observation_end from params)) + 1)
        as history_days
    from pairs
),
customer_lines as (
    select affiliate_code, customer_id, sum(n_lines) as customer_lines
    from pairs
    group by affiliate_code, customer_id
),
customer_category as (
    select
        affiliate_code, customer_id, category_major,
        sum(n_lines) as category_lines,
        max(own_mean_interval_days) as customer_category_max_interval
    from with_interval
    group by affiliate_code, customer_id, category_major
),
affiliate_category as (
    select affiliate_code, category_major, max(own_mean_interval_days) as affiliate_category_max_interval
    from with_interval
    group by affiliate_code, category_major
),
components as (
    select
        p.*,
        coalesce(
            p.own_mean_interval_days,
            cc.customer_category_max_interval,
            ac.affiliate_category_max_interval,
            (select history_days from history)
        ) as mean_interval_days,
        cc.category_lines / cl.customer_lines as category_share
    from with_interval as p
    inner join customer_lines as cl using (affiliate_code, customer_id)
    inner join customer_category as cc
        on p.affiliate_code = cc.affiliate_code and p.customer_id = cc.customer_id
        and p.category_major is not distinct from cc.category_major
    inner join affiliate_category as ac
        on p.affiliate_code = ac.affiliate_code and p.category_major is not distinct from ac.category_major
),
ratios as (
    select
        *,
        (date_diff('day', last_purchase_date, (select observation_end from params)) + 1) / mean_interval_days
            as interval_ratio
    from components
),
levels as (
    select
        *,
        case when n_purchases = 1 then 0 else cast(least(5, 1 + floor(5 * percent_rank() over (
            partition by affiliate_code, n_purchases > 1 order by n_purchases))) as integer) end as buy_level,
        cast(least(5, floor(6 * percent_rank() over (partition by affiliate_code order by category_share)))
            as integer) as category_level,
        cast(least(5, floor(6 * percent_rank() over (partition by affiliate_code order by interval_ratio)))
            as integer) as interval_level
    from ratios
)
select
    affiliate_code, customer_id, product_code, category_major, n_purchases, n_purchase_days,
    first_purchase_date, last_purchase_date, own_mean_interval_days, mean_interval_days,
    own_mean_interval_days is null as interval_is_fallback,
    category_share, interval_ratio, buy_level, category_level, interval_level,
    round(cast({score} as double), 6) as preference_score
from levels
"""


SESSIONS_SQL = """
create or replace table sessions as
with keyed as (
    select
        *,
        case channel when 'online' then date_trunc('day', purchased_at) else date_trunc('hour', purchased_at) end
            as session_start
    from lines
    -- a session's day is its lines' purchase day
    where purchase_date <= (select observation_end from params)
)
select
    substr(
        md5(customer_id || '|' || affiliate_code || '|' || channel || '|' || strftime(session_start, '%Y-%m-%d %H')),
        1, 16
    ) as session_id,
    customer_id,
    affiliate_code,
    channel,
    session_start,
    cast(session_start as date) as session_date,
    count(*) as n_lines,
    cast(sum(quantity) as bigint) as n_units,
    cast(sum(spend) as double) as spend,
    count(distinct product_code) as n_products,
    nullif(count(distinct category_major), 0) as n_categories,
    nullif(array_to_string(list_sort(list_distinct(list(category_major))), ', '), '') as categories,
    bool_or(paid.receipt_id is not null) as paid_with_lpay
from keyed
left join (
    select distinct customer_id, receipt_id
    from lpay_payments
    where not is_outside_affiliates
) as paid using (customer_id, receipt_id)
group by customer_id, affiliate_code, channel, session_start
"""


def _execute(con: duckdb.DuckDBPyConnection, statements: list[str]) -> float:
    start = time.perf_counter()
    for sql in statements:
        con.execute(sql)
    return time.perf_counter() - start


def compute(con: duckdb.DuckDBPyConnection, prepared_dir: Path, observation_end: str | None = None) -> dict[str, float]:
    """Run the script on `con`: temporary tables for the clean rows and transactions, then the
    tables rfm, preference and sessions, each written to the database file (CHECKPOINT) before
    its clock stops, as dbt's tables are. Returns wall seconds per step."""
    con.execute("set enable_progress_bar = false")
    stored = ["checkpoint"]
    seconds = {
        "load": _execute(con, _clean_rows_sql(prepared_dir) + _transactions_sql(observation_end)),
        "rfm": _execute(con, [RFM_SQL, *stored]),
        "preference": _execute(con, [_preference_sql(preference_weights()), *stored]),
        "sessions": _execute(con, [SESSIONS_SQL, *stored]),
    }
    return {step: round(value, 3) for step, value in seconds.items()}


def run(prepared_dir: Path, observation_end: str | None = None, database: Path | None = None) -> ReferenceResult:
    """All three features with per-step wall seconds (load = read CSVs + quarantine filters),
    stored in `database` (a DuckDB file; default: one in a temporary folder, deleted after);
    the frames are fetched after the clocks stop."""
    with tempfile.TemporaryDirectory(prefix="duckdb_reference_") as folder:
        con = duckdb.connect(str(database or Path(folder) / "reference.duckdb"))
        try:
            seconds = compute(con, Path(prepared_dir), observation_end)
            frames = {name: con.sql(f"select * from {name} order by {order}").df() for name, order in ORDER.items()}
            types = {name: [row[:2] for row in con.sql(f"describe {name}").fetchall()] for name in ORDER}
        finally:
            con.close()
    return ReferenceResult(frames["rfm"], frames["preference"], frames["sessions"], seconds, types)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prepared_dir", type=Path)
    parser.add_argument("--json", type=Path, default=None, help="write timings, row counts and checksums here")
    args = parser.parse_args(argv)
    result = run(args.prepared_dir)
    rows = {"rfm": len(result.rfm), "preference": len(result.preference), "sessions": len(result.sessions)}
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "seconds": result.seconds,
                    "total_seconds": round(result.total_seconds, 3),
                    "rows": rows,
                    "checksums": checksums(result),
                },
                indent=2,
            )
        )
    for step, secs in result.seconds.items():
        print(f"  {step:<12} {secs:8.2f} s")
    print(f"  {'total':<12} {result.total_seconds:8.2f} s")
    print(f"rows: rfm {rows['rfm']:,}  preference {rows['preference']:,}  sessions {rows['sessions']:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
