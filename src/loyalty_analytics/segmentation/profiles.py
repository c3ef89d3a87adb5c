"""Segment profiles from assignments + features (no fitting): per model × segment × feature the
members' mean and median in original units, and for KMeans features the stored centroid and
scaler (published as ``segment_centroids``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_analytics.segmentation.features import MODEL_NAMES, PROFILE_FEATURES, aligned, in_customer_order
from loyalty_analytics.segmentation.kmeans import KMeansSegmenter
from loyalty_analytics.segmentation.model import SegmentationModel
from loyalty_analytics.segmentation.tiers import TIER_CUTOFFS, tier_rank

PROFILE_COLUMNS = [
    "model_name",
    "segment_id",
    "segment_name",
    "n_customers",
    "share",
    "feature",
    "mean",
    "median",
    "is_cluster_feature",
    "centroid_original",
    "centroid_scaled",
    "scaler_mean",
    "scaler_scale",
    "log1p",
]


def _profile_rows(
    df: pd.DataFrame, labels: np.ndarray, names: dict, model_name: str, segmenter: KMeansSegmenter | None = None
) -> list[dict]:
    features = [f for f in PROFILE_FEATURES if f in df.columns]
    grouped = df[features].apply(pd.to_numeric, errors="coerce").groupby(labels)
    means, medians = grouped.mean(), grouped.median()
    sizes = pd.Series(labels).value_counts()
    cluster_features = list(segmenter.features) if segmenter is not None else []
    centroids = segmenter.centroids_original() if segmenter is not None else None
    rows = []
    for sid in sorted(sizes.index):
        for f in features:
            j = cluster_features.index(f) if f in cluster_features else None
            rows.append(
                {
                    "model_name": model_name,
                    "segment_id": int(sid),
                    "segment_name": names[sid],
                    "n_customers": int(sizes[sid]),
                    "share": sizes[sid] / len(df),
                    "feature": f,
                    "mean": means.at[sid, f],
                    "median": medians.at[sid, f],
                    "is_cluster_feature": j is not None,
                    "centroid_original": centroids[sid - 1, j] if j is not None else np.nan,
                    "centroid_scaled": segmenter.cluster_centers_[sid - 1, j] if j is not None else np.nan,
                    "scaler_mean": segmenter.scaler_mean_[j] if j is not None else np.nan,
                    "scaler_scale": segmenter.scaler_scale_[j] if j is not None else np.nan,
                    "log1p": f in segmenter.log_features_ if j is not None else False,
                }
            )
    return rows


def segment_profiles(features: pd.DataFrame, segments: pd.DataFrame, model: SegmentationModel) -> pd.DataFrame:
    """Rows (PROFILE_COLUMNS) for every KMeans model and the tiers (segment_id = tier rank,
    1 = VIP), from the assignments ``segments`` (SegmentationModel.predict) of ``features``."""
    df = in_customer_order(features)
    assigned = aligned(segments, df["customer_id"])
    rows = []
    for name, segmenter in model.segmenters_.items():
        labels = assigned[f"segment_id_{name}"].to_numpy(dtype=int)
        rows += _profile_rows(df, labels, segmenter.segment_names_, MODEL_NAMES[name], segmenter)
    if model.tiers_ is not None:
        ranks = np.array([tier_rank(t) for t in assigned["tier"]])
        rows += _profile_rows(df, ranks, {tier_rank(t): t for t, _ in TIER_CUTOFFS}, MODEL_NAMES["tier"])
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)
