"""Campaigns: next-best-action audiences (who to contact, when, with what) with a CSV download.
Reads the mart `next_best_action` (customer_id, action, contact_start_date, product_code_1..3,
suppressed, …; docs/actions.md): suppressed customers are not in an audience, as in the release's
audience files. A release without the mart gets a note."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard import data_access as da

MART = "next_best_action"
CONTACT = "contact_start_date"

st.title("Campaigns")


def load_audience() -> pd.DataFrame:
    """The customers to contact (not suppressed), with tier and segment when customer_360 has them."""
    contactable = "where not suppressed" if da.has(MART, "suppressed") else ""
    if da.has("customer_360", "tier", "segment_name") and not da.has(MART, "tier"):
        return da.query(f"""select a.*, c.tier, c.segment_name
                            from marts.{MART} a left join marts.customer_360 c using (customer_id) {contactable}""")
    return da.query(f"select * from marts.{MART} {contactable}")


def filter_audience(audience: pd.DataFrame) -> pd.DataFrame:
    left, middle, right = st.columns(3)
    if "action" in audience:
        actions = sorted(audience["action"].dropna().unique())
        chosen = left.multiselect("Actions", actions, default=actions, key="campaign_actions")
        audience = audience[audience["action"].isin(chosen)]
    if "tier" in audience:
        tiers = sorted(audience["tier"].dropna().unique())
        chosen = middle.multiselect("Tiers", tiers, default=tiers, key="campaign_tiers")
        audience = audience[audience["tier"].isin(chosen) | audience["tier"].isna()]
    if CONTACT in audience and audience[CONTACT].notna().any():
        dates = pd.to_datetime(audience[CONTACT]).dt.date
        first, last = dates.min(), dates.max()
        window = right.date_input(
            "Contact between", (first, last), min_value=first, max_value=last, key="campaign_window"
        )
        if isinstance(window, (tuple, list)) and len(window) == 2:
            audience = audience[(dates >= window[0]) & (dates <= window[1])]
    return audience


def show_audience(audience: pd.DataFrame) -> None:
    st.metric("Customers in the audience", f"{audience['customer_id'].nunique():,}")
    if "action" in audience and not audience.empty:
        by_action = audience.groupby("action", as_index=False)["customer_id"].nunique()
        st.altair_chart(
            charts.bars(
                by_action.rename(columns={"customer_id": "customers"}),
                "action:N",
                "customers:Q",
                chart_id="audience_by_action",
                horizontal=True,
                sort="-x",
                x_title=None,
                y_title="customers",
            ),
            width="stretch",
        )
    if CONTACT in audience and audience[CONTACT].notna().any():
        by_day = (
            audience.assign(contact_date=pd.to_datetime(audience[CONTACT]))
            .groupby("contact_date", as_index=False)["customer_id"]
            .nunique()
            .rename(columns={"customer_id": "customers"})
        )
        st.altair_chart(
            charts.bars(
                by_day,
                "contact_date:T",
                "customers:Q",
                chart_id="audience_by_contact_date",
                x_title="contact date",
                y_title="customers",
            ),
            width="stretch",
        )
    st.dataframe(audience.head(500), hide_index=True, width="stretch")
    st.download_button(
        "Download the audience (CSV)",
        audience.to_csv(index=False).encode("utf-8"),
        file_name=f"audience_{dt.date.today():%Y%m%d}.csv",
        mime="text/csv",
        key="campaign_csv",
    )


if not da.has(MART, "customer_id"):
    st.info(
        "No next-best-action mart in this release yet: campaign audiences (who to contact, when and with "
        f"which offer) appear here once `{MART}` is published."
    )
    st.stop()
audience = load_audience()
if audience.empty:
    st.info(f"`{MART}` is empty in this release.")
    st.stop()
show_audience(filter_audience(audience))
