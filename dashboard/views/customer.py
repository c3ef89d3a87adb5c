"""Customer: look one customer up by id: attributes, segment, tier, CLV, P(alive), purchase
timeline, recommendations with product names, and next-purchase timing / next-best action
when those marts exist."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard import data_access as da
from dashboard.formatting import money, number, percent

OPTIONAL_REC_COLUMNS = ("recommendation_kind", "kind", "purchase_probability", "reason", "recommendation_reason")
CHAMPIONS = "champion of each kind"

st.title("Customer")
currency = da.release_info().currency


def examples() -> list[str]:
    """A few ids to try: the customers with the highest predicted CLV."""
    source = "customer_360" if da.has("customer_360", "clv_12m") else "customer_rfm"
    order = "clv_12m" if source == "customer_360" else "total_spend"
    return list(
        da.query(f"select customer_id from marts.{source} order by {order} desc, customer_id limit 5")["customer_id"]
    )


def attributes(customer_id: str) -> pd.Series | None:
    source = "customer_360" if da.has("customer_360") else "customer_rfm"
    row = da.query(f"select * from marts.{source} where customer_id = ?", [customer_id])
    return None if row.empty else row.iloc[0]


def show_attributes(c: pd.Series) -> None:
    unit = f" ({currency})" if currency else ""
    cols = st.columns([1, 2, 1])  # segment names are long
    cols[0].metric("Tier", c.get("tier") or "–")
    cols[1].metric("Segment", c.get("segment_name") or "–")
    cols[2].metric("P(alive)", percent(c.get("p_alive")))
    cols = st.columns([1, 2, 1])
    cols[0].metric("Receipts", number(c.get("n_receipts")))
    cols[1].metric(f"CLV 12 months{unit}", money(c.get("clv_12m")))
    cols[2].metric(f"Total spend{unit}", money(c.get("total_spend")))
    facts = {
        "sex": c.get("gender"),
        "age band": f"{int(c['age_band'])}s" if pd.notna(c.get("age_band")) else None,
        "region": c.get("region_code"),
        "first purchase": c.get("first_purchase_date"),
        "last purchase": c.get("last_purchase_date"),
        "days since last purchase": c.get("days_since_last_purchase"),
        "RFM cell": c.get("rfm_cell"),
        "online grade": c.get("online_grade"),
        "expected purchase days, 90 d": c.get("expected_purchases_90d"),
        "expected purchase days, 365 d": c.get("expected_purchases_365d"),
        f"expected spend per purchase day {currency}".strip(): c.get("expected_avg_spend"),
        f"L.Pay spend (M1) {currency}".strip(): c.get("lpay_spend") if da.has_lpay() else None,
    }
    shown = {
        k: (f"{v:,.2f}" if isinstance(v, float) else str(v))
        for k, v in facts.items()
        if v is not None and not (isinstance(v, float) and pd.isna(v))
    }
    st.dataframe(
        pd.DataFrame({"attribute": list(shown), "value": list(shown.values())}),
        hide_index=True,
        width="stretch",
        height=table_height(len(shown)),
    )


def table_height(rows: int) -> int:
    """Pixels that show `rows` rows without a scrollbar (Streamlit's 35-pixel rows + header)."""
    return 35 * (rows + 1) + 3


def timeline(customer_id: str) -> None:
    st.subheader("Purchase timeline")
    if not da.has("customer_sessions", "customer_id", "session_start", "spend"):
        st.info("This dataset has no shopping sessions (customer_sessions): no purchase timeline.")
        return
    sessions = da.query(
        """
        select session_start, affiliate_code, channel, spend, n_products, categories
        from marts.customer_sessions where customer_id = ? order by session_start""",
        [customer_id],
    )
    if sessions.empty:
        st.info("No sessions for this customer.")
        return
    st.altair_chart(
        charts.points_over_time(
            sessions,
            "session_start:T",
            "spend:Q",
            color="affiliate_code:N",
            chart_id="customer_timeline",
            y_title=f"spend {currency}".strip(),
            y_format=charts.MONEY,
            tooltip=["session_start:T", "affiliate_code", "channel", "spend:Q", "n_products:Q", "categories"],
        ),
        width="stretch",
    )


def recommendations(customer_id: str) -> None:
    st.subheader("Recommendations")
    if not da.has("product_recommendations", "customer_id"):
        st.info("This dataset has no product recommendations (no products).")
        return
    models = list(da.query("select distinct model_name from marts.product_recommendations order by 1")["model_name"])
    # what BI reads by default: each kind's champion (a release without the mart offers the models)
    choices = ([CHAMPIONS] if da.has("champion_recommendations", "customer_id") else []) + models
    choice = st.selectbox("Recommender", choices, key="rec_model") if len(choices) > 1 else choices[0]
    mart, model_filter, params = (
        ("champion_recommendations", "", [customer_id])
        if choice == CHAMPIONS
        else ("product_recommendations", "and model_name = ?", [customer_id, choice])
    )
    extra = [c for c in OPTIONAL_REC_COLUMNS if da.has(mart, c)]
    if choice == CHAMPIONS:
        extra.append("model_name")
    kind_order = "recommendation_kind, " if da.has(mart, "recommendation_kind") else ""
    top = st.slider("Products per affiliate", 1, 30, 5, key="rec_top")
    recs = da.query(
        f"""
        select affiliate_code, rank, product_name, category_major, category_middle, score
               {"".join(", " + c for c in extra)}, product_code
        from marts.{mart}
        where customer_id = ? {model_filter} and rank <= ?
        order by affiliate_code, {kind_order}rank""",
        [*params, top],
    )
    if recs.empty:
        st.info("No recommendations for this customer.")
        return
    st.dataframe(
        recs,
        hide_index=True,
        width="stretch",
        column_config={
            "score": st.column_config.NumberColumn(format="%.3f"),
            "purchase_probability": st.column_config.NumberColumn(format="%.3f"),
        },
    )


def optional_rows(title: str, mart: str | None, customer_id: str, empty_note: str) -> None:
    """Rows of a customer-grain mart that a later release may add (timing, next-best action)."""
    st.subheader(title)
    if mart is None:
        st.info(empty_note)
        return
    rows = da.query(f"select * from marts.{mart} where customer_id = ?", [customer_id])
    if rows.empty:
        st.info(f"Nothing in {mart} for this customer.")
    else:
        st.dataframe(rows.drop(columns=["customer_id"]), hide_index=True, width="stretch")


sample = examples()
customer_id = st.text_input(
    "Customer id", value=st.query_params.get("customer", ""), key="customer_id", placeholder=sample[0] if sample else ""
).strip()
st.caption("Highest predicted CLV: " + ", ".join(f"`{s}`" for s in sample))
if not customer_id:
    st.stop()
st.query_params["customer"] = customer_id  # the URL names the customer: shareable
found = attributes(customer_id)
if found is None:
    st.warning(f"No customer `{customer_id}` in this release.")
    st.stop()
show_attributes(found)
timeline(customer_id)
recommendations(customer_id)
optional_rows(
    "Next purchase",
    da.find_mart("repurchase", "next_purchase", "timing"),
    customer_id,
    "No repurchase-timing mart in this release: the predicted next purchase appears once one is published.",
)
optional_rows(
    "Next best action",
    "next_best_action" if da.has("next_best_action", "customer_id") else None,
    customer_id,
    "No next-best-action mart in this release.",
)
