"""Segmentation metric rows (``loyalty_analytics.metrics``) of a stored model and its
assignments: per KMeans model the silhouette on the seeded sample, k, inertia, fit seconds,
silhouette by k, stability across seeds and ARI against the planted truth; for the tiers the
classifier accuracy, weights and tier shares. Definitions: docs/segmentation.md, "Evaluation"."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from loyalty_analytics import truth as planted
from loyalty_analytics.metrics import metric_row, metrics_frame
from loyalty_analytics.segmentation.features import MODEL_NAMES, aligned, in_customer_order
from loyalty_analytics.segmentation.kmeans import KMeansSegmenter, silhouette_many, silhouette_sample
from loyalty_analytics.segmentation.model import SegmentationModel
from loyalty_analytics.segmentation.tiers import TIER_CUTOFFS, TierModel


def stability_labels(segmenter: KMeansSegmenter, df: pd.DataFrame) -> np.ndarray:
    """An evaluation refit, never stored: the same features and k, seeded ``random_state + 1``."""
    other_seed = clone(segmenter).set_params(n_clusters=segmenter.n_clusters_, random_state=segmenter.random_state + 1)
    return other_seed.fit(df).labels_


def _kmeans_rows(
    df: pd.DataFrame, segmenter: KMeansSegmenter, labels: np.ndarray, truth: pd.DataFrame | None, stability_check: bool
) -> list[tuple]:
    name = segmenter.model_name
    x = segmenter.transform(df)
    sample = silhouette_sample(len(df), segmenter.sample_size, segmenter.random_state)
    silhouettes = (
        silhouette_many(x[sample], [labels[sample]])[0] if segmenter.n_clusters_ > 1 else np.full(len(sample), np.nan)
    )
    inertia = ((x - segmenter.cluster_centers_[labels - 1]) ** 2).sum() / len(df)
    rows = [
        metric_row(name, "silhouette", np.nanmean(silhouettes)),
        metric_row(name, "k", segmenter.n_clusters_),
        metric_row(name, "inertia_per_customer", inertia),
        metric_row(name, "fit_seconds", segmenter.fit_seconds_),
    ]
    rows += [metric_row(name, "silhouette_at_k", s, "k_selection", k) for k, s in segmenter.silhouette_by_k_.items()]
    if stability_check:
        other_seed = stability_labels(segmenter, df)
        rows.append(metric_row(name, "ari_seed_stability", adjusted_rand_score(labels, other_seed)))
    if truth is not None:
        rows.append(
            metric_row(name, "ari_vs_truth", adjusted_rand_score(truth["segment_id"].astype(str), labels), "truth")
        )
    return rows


def _tier_rows(tiers: TierModel, tier: pd.Series) -> list[tuple]:
    name = MODEL_NAMES["tier"]
    rows = [metric_row(name, "classifier_oob_accuracy", tiers.classifier_oob_accuracy_)]
    rows += [metric_row(name, f"weight_{n}", w) for n, w in tiers.weights_.items()]
    rows += [metric_row(name, f"share_{t.lower().replace(' ', '_')}", (tier == t).mean()) for t, _ in TIER_CUTOFFS]
    return rows


def evaluate_segmentation(
    features: pd.DataFrame,
    model: SegmentationModel,
    segments: pd.DataFrame,
    truth: pd.DataFrame | None | str = "auto",
    stability_check: bool = True,
) -> pd.DataFrame:
    """Metric rows of the stored ``model`` and its assignments ``segments`` of ``features``.
    ``truth='auto'`` reads the planted truth (skipped when absent or stale); pass a frame with
    customer_id, segment_id, or None to skip."""
    df = in_customer_order(features)
    assigned = aligned(segments, df["customer_id"])
    if isinstance(truth, str) and truth == "auto":
        truth = planted.load_truth(df["customer_id"], ["segment_id"])
    elif truth is not None:
        truth = aligned(truth, df["customer_id"])
    rows = []
    for name, segmenter in model.segmenters_.items():
        labels = assigned[f"segment_id_{name}"].to_numpy(dtype=int)
        rows += _kmeans_rows(df, segmenter, labels, truth, stability_check)
    if model.tiers_ is not None:
        rows += _tier_rows(model.tiers_, assigned["tier"])
    return metrics_frame(rows)
