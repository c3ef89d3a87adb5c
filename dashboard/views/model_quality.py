"""Model quality: seed 000's preference-score back-test beside its published curve, the
recommenders against baselines and the oracle, and CLV predicted vs actual on the holdout."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard import data_access as da
from dashboard.formatting import number

# Seed 000's reliability table for affiliate A01 on the real competition data, as its write-up
# publishes it: share of (customer, product) pairs scoring >= t that were bought again.
SEED000_A01_THRESHOLDS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5)
SEED000_A01_REPURCHASE = (0.164, 0.164, 0.169, 0.169, 0.177, 0.225, 0.558, 0.631, 0.700, 0.733)
SEED000_LABEL = "seed 000, A01 (source analysis, real data)"
ORACLE = {"oracle"}
# the names of recommenders.baselines.default_baselines (tests/python/test_baselines.py keeps them in step)
BASELINES = {"popularity", "popularity_affiliate", "personal_frequency", "cooccurrence", "als", "tifu_knn"}
RECOMMENDER_SPLITS = ("all_items", "new_items", "new_items_sparse")
ROLE_COLOURS = {"model": "#1f6fd1", "baseline": "#a0a7b4", "oracle": "#e4572e"}
CLV_HOLDOUT_METRICS = ("mae", "rmse", "pearson_r", "total_relative_error")

st.title("Model quality")


def role(model_name: str) -> str:
    return "oracle" if model_name in ORACLE else "baseline" if model_name in BASELINES else "model"


def seed000_curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "threshold": SEED000_A01_THRESHOLDS,
            "repurchase_rate": SEED000_A01_REPURCHASE,
            "curve": SEED000_LABEL,
            "source": "source analysis",
        }
    )


def preference_backtest() -> None:
    st.subheader("Preference score back-test (seed 000)")
    if not da.has("preference_score_backtest"):
        st.info("This dataset has no products: no preference-score back-test.")
        return
    ours = da.query("""
        select threshold, repurchase_rate, n_pairs, 'this release, ' || affiliate_code as curve,
               'this release' as source
        from marts.preference_score_backtest order by affiliate_code, threshold""")
    both = pd.concat([ours, seed000_curve()], ignore_index=True)
    chart = (
        alt.Chart(both)
        .mark_line(point=True)
        .encode(
            x=alt.X("threshold:Q", title="preference score ≥ t", axis=alt.Axis(values=list(SEED000_A01_THRESHOLDS))),
            y=alt.Y("repurchase_rate:Q", title="share bought again", axis=alt.Axis(format=".0%")),
            color=alt.Color("curve:N", title=None, legend=alt.Legend(labelLimit=300)),
            strokeDash=alt.StrokeDash("source:N", legend=None, sort=["this release", "source analysis"]),
            tooltip=["curve", "threshold:Q", alt.Tooltip("repurchase_rate:Q", format=".3f"), "n_pairs:Q"],
        )
        .properties(description="preference_backtest", height=340)
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Dashed: the source analysis's published A01 figures on the real competition data (a constant "
        "here); solid: this release, per affiliate, on its own data — comparable in direction, not in value."
    )


def recommender_metrics() -> None:
    st.subheader("Recommenders against baselines and the oracle")
    if not da.has("model_metrics"):
        st.info("This release has no model_metrics mart.")
        return
    rows = da.query(f"""
        select model_name, metric, k, split, value from marts.model_metrics
        where split in ({", ".join("'" + s + "'" for s in RECOMMENDER_SPLITS)}) and value is not null""")
    if rows.empty:
        st.info("This dataset has no recommenders (no products).")
        return
    c1, c2, c3 = st.columns(3)
    splits = [s for s in RECOMMENDER_SPLITS if s in set(rows["split"])]
    split = c1.selectbox(
        "Split",
        splits,
        key="rec_split",
        help="all_items: every product bought after the cut; new_items: only products the customer "
        "had not bought before; new_items_sparse: the same for customers with little history.",
    )
    metrics = sorted(set(rows.loc[rows["split"] == split, "metric"]))
    metric = c2.selectbox("Metric", metrics, index=metrics.index("ndcg") if "ndcg" in metrics else 0, key="rec_metric")
    chosen = rows[(rows["split"] == split) & (rows["metric"] == metric)]
    ks = sorted(int(k) for k in chosen["k"].dropna().unique())
    if ks:
        k = c3.selectbox("k", ks, index=ks.index(10) if 10 in ks else 0, key="rec_k")
        chosen = chosen[chosen["k"] == k]
    else:
        c3.caption("No k for this metric.")
    chosen = chosen.assign(role=chosen["model_name"].map(role))
    st.altair_chart(
        charts.bars(
            chosen,
            "model_name:N",
            "value:Q",
            color="role:N",
            horizontal=True,
            sort="-x",
            chart_id="recommender_metric",
            x_title=None,
            y_title=metric,
            y_format=".3f",
            color_scale=ROLE_COLOURS,
            tooltip=["model_name", "role", alt.Tooltip("value:Q", format=".4f")],
        ),
        width="stretch",
    )


def clv_holdout() -> None:
    st.subheader("CLV: predicted vs actual purchases on the holdout")
    if not da.has("model_metrics"):
        return
    rows = da.query("""
        select model_name, metric, value from marts.model_metrics
        where split = 'holdout' and model_name like 'clv%' and value is not null""")
    totals = rows[rows["metric"].isin(["predicted_total", "actual_total"])]
    if totals.empty:
        st.info("This release has no CLV holdout evaluation.")
        return
    actual = float(totals.loc[totals["metric"] == "actual_total", "value"].iloc[0])
    bars = pd.concat(
        [
            totals[totals["metric"] == "predicted_total"].assign(series="predicted")[["model_name", "series", "value"]],
            pd.DataFrame({"model_name": ["actual"], "series": ["actual"], "value": [actual]}),
        ],
        ignore_index=True,
    )
    n = rows.loc[rows["metric"] == "n_customers", "value"]
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.bars(
                bars,
                "model_name:N",
                "value:Q",
                color="series:N",
                chart_id="clv_holdout_totals",
                x_title=None,
                label_angle=0,
                y_title="purchase days in the holdout",
                tooltip=["model_name", alt.Tooltip("value:Q", format=",.1f")],
            ),
            width="stretch",
        )
        st.caption(
            f"Calibration-period customers: {number(n.iloc[0]) if len(n) else '–'}; the naive baseline "
            "repeats each customer's past purchase rate."
        )
    with right:
        errors = (
            rows[rows["metric"].isin(CLV_HOLDOUT_METRICS)]
            .pivot_table(index="model_name", columns="metric", values="value")
            .reset_index()
        )
        st.dataframe(
            errors,
            hide_index=True,
            width="stretch",
            column_config={m: st.column_config.NumberColumn(format="%.3f") for m in CLV_HOLDOUT_METRICS},
        )
        spend = rows[rows["metric"].str.startswith("spend_")]
        if not spend.empty:
            st.caption(
                "Gamma-Gamma spend per purchase day vs the holdout mean: "
                + ", ".join(
                    f"{m.removeprefix('spend_')} {v:,.3g}" for m, v in zip(spend["metric"], spend["value"], strict=True)
                )
            )


preference_backtest()
recommender_metrics()
clv_holdout()
