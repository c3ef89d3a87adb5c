"""Segments and tiers: KMeans segment sizes and profiles in original units (segment_profiles),
seed 004's tiers, and the playbook action per segment once a next-best-action mart exists."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard import data_access as da
from dashboard.formatting import money, number, percent

TIER_ORDER = ["VIP", "Gold", "Silver", "Bronze", "At Risk"]
PROFILE_COLUMNS = {  # segment_profiles column -> label; shown when present
    "n_customers": "customers",
    "share": "share",
    "mean_days_since_last_purchase": "days since last purchase",
    "mean_receipts": "receipts",
    "mean_frequency": "repeat days",
    "mean_monetary_value": "spend per repeat day",
    "mean_total_spend": "total spend",
    "mean_lpay_spend": "L.Pay spend (M1)",
    "mean_other_spend": "other spend (M2)",
    "lpay_user_share": "L.Pay users",
    "mean_tenure_days": "tenure days",
    "mean_clv_12m": "CLV 12 m",
    "mean_p_alive": "P(alive)",
}
PERCENT_COLUMNS = {"share", "lpay_user_share", "mean_p_alive"}
MONEY_COLUMNS = {"mean_monetary_value", "mean_total_spend", "mean_lpay_spend", "mean_other_spend", "mean_clv_12m"}


def formatted(column: str, value) -> str:
    """A profile value as text: one table mixes counts, shares, money and days."""
    if column in PERCENT_COLUMNS:
        return percent(value)
    if column in MONEY_COLUMNS:
        return money(value)
    return number(value, 0 if column == "n_customers" else 1)


def profile_table(profiles: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Features as rows, segments as columns: reads at a glance for the few segments a model has."""
    rows = {
        PROFILE_COLUMNS.get(c, c.replace("_", " ")): [
            formatted(c, v) if c in PROFILE_COLUMNS else v for v in profiles[c]
        ]
        for c in columns
    }
    return pd.DataFrame(rows, index=list(profiles["segment"])).T


st.title("Segments and tiers")
currency = da.release_info().currency
lpay = da.has_lpay()


def playbook_actions(model: str) -> pd.DataFrame | None:
    """Most frequent next-best action per segment of `model` (None without that mart)."""
    if not (da.has("next_best_action", "customer_id", "action") and da.has("customer_segments", "segment_id")):
        return None
    column = {"kmeans_seed001_features": "segment_id_seed001", "kmeans_rfmtclv_features": "segment_id_rfmtclv"}
    seg = column.get(model, "segment_id")
    seg = seg if da.has("customer_segments", seg) else "segment_id"
    return da.query(f"""
        with counts as (
            select s.{seg} as segment_id, a.action, count(distinct a.customer_id) as n
            from marts.next_best_action a join marts.customer_segments s using (customer_id)
            group by all)
        select segment_id, arg_max(action, n) as playbook_action, max(n) / sum(n) as action_share
        from counts group by segment_id""")


def segment_section() -> None:
    if not da.has("segment_profiles"):
        st.info("This release has no segment_profiles mart.")
        return
    models = da.query("select distinct segmentation_model from marts.segment_profiles order by 1")
    names = list(models["segmentation_model"])
    primary = (
        da.scalar("select any_value(segmentation_model) from marts.customer_segments")
        if da.has("customer_segments", "segmentation_model")
        else None
    )
    model = st.selectbox(
        "Segmentation model", names, index=names.index(primary) if primary in names else 0, key="segmentation_model"
    )
    profiles = da.query(
        "select * from marts.segment_profiles where segmentation_model = ? order by segment_id", [model]
    )
    silhouette = profiles["silhouette"].iloc[0] if "silhouette" in profiles else None
    st.caption(f"{len(profiles)} segments" + (f", silhouette {silhouette:.3f}" if silhouette is not None else ""))
    profiles["segment"] = profiles["segment_id"].astype(str) + " · " + profiles["segment_name"]
    st.altair_chart(
        charts.bars(
            profiles,
            "segment:N",
            "n_customers:Q",
            chart_id="segment_sizes",
            horizontal=True,
            x_title=None,
            y_title="customers",
            sort="-x",
            tooltip=["segment", "n_customers:Q", "share:Q"],
        ),
        width="stretch",
    )
    st.subheader("Profiles (members' means, original units)")
    keep = [c for c in PROFILE_COLUMNS if c in profiles and (lpay or "lpay" not in c)]
    actions = playbook_actions(model)
    if actions is not None:
        profiles = profiles.merge(actions[["segment_id", "playbook_action"]], on="segment_id", how="left")
    table = profile_table(profiles, keep + (["playbook_action"] if actions is not None else []))
    st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)
    if actions is None:
        st.info(
            "No next-best-action mart in this release: the playbook action per segment appears once "
            "`next_best_action` is published."
        )


def tier_section() -> None:
    st.subheader("Tiers (seed 004)")
    if not da.has("customer_360", "tier", "clv_12m"):
        st.info("This release has no tiers (customer_360.tier).")
        return
    tiers = da.query("""
        select tier, count(*) as customers, avg(clv_12m) as mean_clv_12m, avg(total_spend) as mean_total_spend,
               avg(p_alive) as mean_p_alive
        from marts.customer_360 group by tier""")
    order = [t for t in TIER_ORDER if t in set(tiers["tier"])] + sorted(set(tiers["tier"]) - set(TIER_ORDER))
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.bars(
                tiers,
                "tier:N",
                "customers:Q",
                chart_id="tier_sizes",
                sort=order,
                x_title=None,
                y_title="customers",
                label_angle=0,
            ),
            width="stretch",
        )
    with right:
        st.altair_chart(
            charts.bars(
                tiers,
                "tier:N",
                "mean_clv_12m:Q",
                chart_id="tier_clv",
                sort=order,
                x_title=None,
                y_title=f"mean 12-month CLV {currency}".strip(),
                y_format=charts.MONEY,
                label_angle=0,
                tooltip=["tier", "mean_clv_12m:Q", "mean_total_spend:Q", "mean_p_alive:Q"],
            ),
            width="stretch",
        )
    cross = da.query("select tier, segment_name, count(*) as customers from marts.customer_360 group by all")
    st.caption("Customers per tier and segment (the primary segmentation model).")
    st.altair_chart(
        charts.heatmap(
            cross,
            "tier:N",
            "segment_name:N",
            "customers:Q",
            chart_id="tier_by_segment",
            x_title=None,
            y_title=None,
            value_format=",.0f",
            x_sort=order,
            label_angle=0,
        ),
        width="stretch",
    )


segment_section()
tier_section()
