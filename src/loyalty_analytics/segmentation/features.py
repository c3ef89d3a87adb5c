"""Customer-level features of the segmentation: one frame joining the RFM summary, the CLV
predictions and demographics, in customer order; the feature sets each KMeans model uses
(docs/segmentation.md, "Feature sets")."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURE_SETS = {
    "seed001": ["recency", "n_receipts", "lpay_spend", "other_spend", "lpay_receipts", "is_female", "age_band"],
    "rfmtclv": ["days_since_last_purchase", "frequency", "monetary_value", "T", "clv_3m"],
}
MODEL_NAMES = {"seed001": "kmeans_seed001_features", "rfmtclv": "kmeans_rfmtclv_features", "tier": "tier_seed004"}
# skewed non-negative money and count features: log1p before scaling
LOG_FEATURES = {
    "frequency",
    "n_receipts",
    "monetary_value",
    "total_spend",
    "lpay_spend",
    "other_spend",
    "lpay_receipts",
    "online_spend",
    "clv_1m",
    "clv_3m",
    "clv_6m",
    "clv_12m",
}
# described per segment in int_segment_profiles (segment_centroids)
PROFILE_FEATURES = [
    "recency",
    "days_since_last_purchase",
    "frequency",
    "n_receipts",
    "monetary_value",
    "total_spend",
    "lpay_spend",
    "other_spend",
    "lpay_receipts",
    "T",
    "clv_3m",
    "clv_12m",
    "p_alive",
    "is_female",
    "age_band",
]
# a seed001 model without any of these would not be seed 001's segmentation
SEED001_DEFINING = {"lpay_spend", "lpay_receipts", "is_female", "age_band"}


def _with_text_ids(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(customer_id=frame["customer_id"].astype(str))


def prepare_features(
    rfm: pd.DataFrame, clv: pd.DataFrame | None = None, customers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """RFM summary + CLV predictions + demographics (``is_female`` 0/1 from ``gender``,
    ``age_band``), one row per RFM customer, in customer order (:func:`in_customer_order`)."""
    df = _with_text_ids(rfm)
    if clv is not None:
        c = _with_text_ids(clv)
        df = df.merge(
            c[[x for x in c.columns if x == "customer_id" or x not in df.columns]], on="customer_id", how="left"
        )
    if customers is not None and len(customers):
        d = _with_text_ids(customers)
        if "gender" in d.columns:
            g = d["gender"].astype("string").str.lower()
            d["is_female"] = np.where(g == "female", 1.0, np.where(g == "male", 0.0, np.nan))
        if "age_band" in d.columns:
            d["age_band"] = pd.to_numeric(d["age_band"], errors="coerce")
        df = df.merge(
            d[[x for x in ("customer_id", "is_female", "age_band") if x in d.columns]], on="customer_id", how="left"
        )
    if "days_since_last_purchase" not in df.columns and {"T", "recency"} <= set(df.columns):
        df["days_since_last_purchase"] = df["T"] - df["recency"]
    if "n_receipts" not in df.columns and "frequency" in df.columns:
        df["n_receipts"] = df["frequency"] + 1
    return in_customer_order(df)


def in_customer_order(features: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by customer id (as text): the KMeans sample, the classifier's subsample,
    KMeans' tie-breaks and every sum then depend on the customers, not on the (arbitrary) order
    a warehouse query returned them in."""
    return _with_text_ids(features).sort_values("customer_id", kind="stable").reset_index(drop=True)


def aligned(frame: pd.DataFrame, customer_ids: pd.Series) -> pd.DataFrame:
    """``frame`` (with a customer_id column) reordered to ``customer_ids``."""
    return _with_text_ids(frame).set_index("customer_id").reindex(customer_ids.astype(str)).reset_index()


def available_feature_sets(df: pd.DataFrame, feature_sets=None) -> dict:
    """Feature sets whose columns all exist with some values; each keeps its varying columns
    (at least two). seed001 also needs one of its L.Pay or demographic columns to vary."""
    out = {}
    for name, cols in (feature_sets or FEATURE_SETS).items():
        if not all(c in df.columns for c in cols):
            continue
        x = df[cols].apply(pd.to_numeric, errors="coerce")
        if x.isna().all().any():
            continue
        varying = [c for c in cols if x[c].nunique(dropna=True) > 1]
        if name == "seed001" and not (SEED001_DEFINING & set(varying)):
            continue
        if len(varying) >= 2:
            out[name] = varying
    return out


def raw_matrix(df: pd.DataFrame, features, log_features) -> np.ndarray:
    """The features as floats, log1p applied to ``log_features`` (negatives clipped to 0)."""
    x = np.array(df[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float), copy=True)
    for j, f in enumerate(features):
        if f in log_features:
            x[:, j] = np.log1p(np.maximum(x[:, j], 0.0))
    return x


def standardise(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    x = (x - mean) / scale
    return np.where(np.isnan(x), 0.0, x)  # missing -> feature mean
