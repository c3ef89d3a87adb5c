"""Cohorts: retention and cumulative spend per customer by first-purchase month (seed 001),
and the mean predicted 12-month CLV of each cohort."""

from __future__ import annotations

import streamlit as st

from dashboard import charts
from dashboard import data_access as da

st.title("Cohorts")
currency = da.release_info().currency

if not da.has("customer_cohorts"):
    st.info("This release has no customer_cohorts mart.")
    st.stop()

cohorts = da.query("""
    select strftime(cohort_month, '%Y-%m') as cohort, months_since_first, cohort_size, active_customers,
           retention_rate, spend, cumulative_spend_per_customer
    from marts.customer_cohorts order by cohort_month, months_since_first""")
max_months = int(cohorts["months_since_first"].max())
horizon = (
    st.slider("Months since first purchase", 1, max(1, max_months), min(max_months, 12) or 1, key="cohort_horizon")
    if max_months > 1
    else max_months
)
shown = cohorts[cohorts["months_since_first"] <= horizon]

st.subheader("Retention")
st.caption(
    "Share of each cohort's customers who bought in the n-th month after their first purchase month "
    "(month 0 is 100% by definition and left out)."
)
after_first = shown[shown["months_since_first"] > 0]
st.altair_chart(
    charts.heatmap(
        after_first,
        "months_since_first:O",
        "cohort:O",
        "retention_rate:Q",
        chart_id="retention",
        x_title="months since first purchase",
        y_title="first-purchase month",
        value_title="retention",
        value_format=".0%",
    ),
    width="stretch",
)

st.subheader("Cumulative spend per customer")
st.altair_chart(
    charts.heatmap(
        shown,
        "months_since_first:O",
        "cohort:O",
        "cumulative_spend_per_customer:Q",
        chart_id="cumulative_spend",
        x_title="months since first purchase",
        y_title="first-purchase month",
        value_title=f"spend {currency}".strip(),
        value_format=",.3s",
        scheme="greens",
    ),
    width="stretch",
)

left, right = st.columns(2)
sizes = cohorts[cohorts["months_since_first"] == 0][["cohort", "cohort_size"]]
with left:
    st.subheader("Cohort sizes")
    st.altair_chart(
        charts.bars(sizes, "cohort:O", "cohort_size:Q", chart_id="cohort_sizes", x_title=None, y_title="customers"),
        width="stretch",
    )
with right:
    st.subheader("Predicted CLV by cohort")
    if da.has("customer_clv", "clv_12m") and da.has("customer_rfm", "first_purchase_date"):
        clv = da.query("""
            select strftime(date_trunc('month', r.first_purchase_date), '%Y-%m') as cohort,
                   avg(c.clv_12m) as mean_clv_12m, avg(c.p_alive) as mean_p_alive, count(*) as customers
            from marts.customer_clv c join marts.customer_rfm r using (customer_id)
            group by all order by cohort""")
        st.altair_chart(
            charts.bars(
                clv,
                "cohort:O",
                "mean_clv_12m:Q",
                chart_id="clv_by_cohort",
                x_title=None,
                y_title=f"mean 12-month CLV {currency}".strip(),
                y_format=charts.MONEY,
                tooltip=["cohort", "mean_clv_12m:Q", "mean_p_alive:Q", "customers:Q"],
            ),
            width="stretch",
        )
    else:
        st.info("This release has no CLV per customer (customer_clv).")
