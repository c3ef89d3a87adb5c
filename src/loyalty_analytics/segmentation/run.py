"""The whole segmentation in one call, the way the dbt models chain it: fit, store the params,
rebuild the model from them, assign, profile, evaluate. For tests and notebooks."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from loyalty_analytics.segmentation.evaluation import evaluate_segmentation
from loyalty_analytics.segmentation.kmeans import DEFAULT_K_RANGE
from loyalty_analytics.segmentation.model import SegmentationModel
from loyalty_analytics.segmentation.profiles import segment_profiles


@dataclass
class SegmentationResult:
    segments: pd.DataFrame
    profiles: pd.DataFrame
    metrics: pd.DataFrame
    params: pd.DataFrame
    model: SegmentationModel  # rebuilt from ``params``


def run_segmentation(
    features: pd.DataFrame,
    k_range=DEFAULT_K_RANGE,
    sample_size: int = 5000,
    random_state: int = 42,
    n_init: int = 10,
    stability_check: bool = True,
    truth: pd.DataFrame | None | str = "auto",
    primary: str = "seed001",
) -> SegmentationResult:
    """Everything for a feature frame (features.prepare_features); outputs are in customer
    order and do not depend on the input row order."""
    params = SegmentationModel(k_range, sample_size, random_state, n_init, primary).fit(features).to_params()
    model = SegmentationModel.from_params(params)
    segments = model.predict(features)
    return SegmentationResult(
        segments,
        segment_profiles(features, segments, model),
        evaluate_segmentation(features, model, segments, truth, stability_check),
        params,
        model,
    )
