"""Overview: seed 001's dashboard KPIs and breakdowns (customers, L.Pay use, purchases, spend,
CLV; spend over time, by weekday, hour, age × sex and affiliate)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, metric_layer
from dashboard import data_access as da
from dashboard.formatting import money, number, percent

st.title("Overview")
info = da.release_info()
currency = info.currency
lpay = da.has_lpay()
SPEND = f"spend {currency}".strip()  # axis title


KPIS = (
    "customers",
    "purchases",
    "spend",
    "mean_spend_per_customer",
    "mean_spend_per_purchase",
    "mean_clv_12m",
    "lpay_client_ratio",
    "lpay_transaction_ratio",
    "lpay_spend_share",
)


def kpi_values() -> pd.Series:
    """The KPIs as the metrics layer defines them (models/marts/semantic/, compiled by
    dashboard/metric_layer.py): one cached query per mart; a mart this release lacks gives None."""
    values = {}
    for mart, sql in metric_layer.queries(KPIS).items():
        values.update(da.query(sql).iloc[0].to_dict() if da.has(mart) else {})
    return pd.Series({name: values.get(name) for name in KPIS})


def about(metric: str) -> str:
    """A KPI's help text: the metric's description in the metrics layer."""
    return metric_layer.metric(metric).description


def kpis() -> None:
    k = kpi_values()
    unit = f" ({currency})" if currency else ""
    cols = st.columns(4)
    cols[0].metric("Customers", number(k.customers), help=about("customers"))
    cols[1].metric("Purchases", number(k.purchases), help=about("purchases"))
    cols[2].metric(
        f"Mean spend per customer{unit}", money(k.mean_spend_per_customer), help=about("mean_spend_per_customer")
    )
    cols[3].metric(f"Mean CLV, 12 months{unit}", money(k.mean_clv_12m), help=about("mean_clv_12m"))
    cols = st.columns(4)
    cols[0].metric(f"Total spend{unit}", money(k.spend), help=about("spend"))
    cols[1].metric(
        f"Mean spend per purchase{unit}", money(k.mean_spend_per_purchase), help=about("mean_spend_per_purchase")
    )
    if lpay:
        cols[2].metric("L.Pay client ratio", percent(k.lpay_client_ratio), help=about("lpay_client_ratio"))
        cols[3].metric(
            "L.Pay transaction ratio",
            percent(k.lpay_transaction_ratio),
            help=f"{about('lpay_transaction_ratio')} L.Pay carries {percent(k.lpay_spend_share)} of the spend "
            "(seed 001's M1).",
        )
    else:
        st.info("This dataset has no L.Pay payments: the L.Pay ratios are not shown.")


def over_time() -> None:
    st.subheader("Spend over time")
    daily = da.query("""
        select purchase_date, channel, sum(spend) as spend, cast(sum(n_receipts) as bigint) as receipts,
               cast(sum(lpay_receipts) as bigint) as lpay_receipts
        from marts.sales_daily group by all order by purchase_date, channel""")
    st.altair_chart(
        charts.lines(
            daily,
            "purchase_date:T",
            "spend:Q",
            color="channel:N",
            chart_id="daily_spend",
            x_title="day",
            y_title=SPEND,
            y_format=charts.MONEY,
        ),
        width="stretch",
    )
    if lpay:
        st.subheader("L.Pay use over time")
        st.altair_chart(
            charts.lines(
                daily,
                "purchase_date:T",
                "lpay_receipts:Q",
                color="channel:N",
                chart_id="daily_lpay",
                x_title="day",
                y_title="receipts paid with L.Pay",
            ),
            width="stretch",
        )


def when_customers_buy() -> None:
    grid = da.query("""
        select weekday, weekday_name, hour, channel, cast(n_receipts as bigint) as receipts, spend
        from marts.sales_by_weekday_hour""")
    by_day = grid.groupby(["weekday", "weekday_name", "channel"], as_index=False)[["receipts", "spend"]].sum()
    by_day["day"] = by_day["weekday_name"].str[:3]
    left, right = st.columns(2)
    with left:
        st.subheader("Spend by weekday")
        st.altair_chart(
            charts.bars(
                by_day,
                "day:N",
                "spend:Q",
                color="channel:N",
                sort=[d[:3] for d in charts.WEEKDAYS],
                label_angle=0,
                chart_id="spend_by_weekday",
                x_title=None,
                y_title=SPEND,
                y_format=charts.MONEY,
            ),
            width="stretch",
        )
    with right:
        st.subheader("Spend by hour of day")
        if grid["hour"].notna().any():
            by_hour = grid.groupby(["hour", "channel"], as_index=False)[["receipts", "spend"]].sum()
            st.altair_chart(
                charts.bars(
                    by_hour,
                    "hour:O",
                    "spend:Q",
                    color="channel:N",
                    chart_id="spend_by_hour",
                    label_angle=0,
                    y_title=SPEND,
                    y_format=charts.MONEY,
                ),
                width="stretch",
            )
        else:
            st.info("This dataset records purchase dates only (no time of day).")


def demographics() -> None:
    st.subheader("Spend by age and sex")
    if not da.has_demographics():
        st.info("This dataset has no demographics (age, sex).")
        return
    demo = da.query("""
        select cast(age_band as varchar) || 's' as age, age_band, coalesce(gender, 'unknown') as gender,
               count(*) as customers, sum(total_spend) as spend, avg(total_spend) as spend_per_customer
        from marts.customer_360 where age_band is not null group by all order by age_band, gender""")
    ages = list(dict.fromkeys(demo["age"]))
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.bars(
                demo,
                "age:N",
                "customers:Q",
                color="gender:N",
                stack=False,
                sort=ages,
                chart_id="customers_by_age_sex",
                x_title=None,
                y_title="customers",
                label_angle=0,
            ),
            width="stretch",
        )
    with right:
        st.altair_chart(
            charts.bars(
                demo,
                "age:N",
                "spend:Q",
                color="gender:N",
                stack=False,
                sort=ages,
                chart_id="spend_by_age_sex",
                x_title=None,
                y_title=SPEND,
                y_format=charts.MONEY,
                label_angle=0,
            ),
            width="stretch",
        )


def affiliates() -> None:
    st.subheader("Spend by affiliate and service")
    by_aff = da.query("""
        select affiliate_code || ' ' || affiliate_name as affiliate, affiliate_kind as kind,
               sum(spend) as spend, cast(sum(n_receipts) as bigint) as receipts,
               sum(lpay_receipts) / sum(n_receipts) as lpay_receipt_share
        from marts.sales_daily group by all order by spend desc""")
    if len(by_aff) <= 1:
        st.info("This dataset has a single store (no affiliates or services to compare).")
        return
    tooltip = ["affiliate", "kind", "spend:Q", "receipts:Q"] + (["lpay_receipt_share:Q"] if lpay else [])
    st.altair_chart(
        charts.bars(
            by_aff,
            "affiliate:N",
            "spend:Q",
            color="kind:N",
            horizontal=True,
            sort="-x",
            chart_id="spend_by_affiliate",
            x_title=None,
            y_title=SPEND,
            y_format=charts.MONEY,
            tooltip=tooltip,
        ),
        width="stretch",
    )


if not da.has("customer_rfm"):
    st.info("This release has no customer_rfm mart: nothing to summarise.")
    st.stop()
kpis()
if da.has("sales_daily") and da.has("sales_by_weekday_hour"):
    over_time()
    when_customers_buy()
    demographics()
    affiliates()
else:
    st.info(
        "This release has no sales marts (sales_daily, sales_by_weekday_hour): "
        "the charts over time, weekday, hour and affiliate are not shown."
    )
    demographics()
