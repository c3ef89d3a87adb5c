"""Customer segmentation: KMeans segments with rule-based names (seed 001 features; seed 004's
RFM+T+CLV set) and seed 004's tiers. Fit once (:class:`SegmentationModel`), store the params as
a table, apply them (:meth:`SegmentationModel.predict`), then profile and evaluate the stored
model. Feature sets, naming rules, tiers and measurements: docs/segmentation.md.

Modules: ``features``, ``naming``, ``kmeans``, ``tiers``, ``model``, ``profiles``,
``evaluation``, ``run`` (all steps in one call).
"""

from loyalty_analytics.segmentation.evaluation import evaluate_segmentation, stability_labels
from loyalty_analytics.segmentation.features import (
    FEATURE_SETS,
    LOG_FEATURES,
    MODEL_NAMES,
    PROFILE_FEATURES,
    available_feature_sets,
    in_customer_order,
    prepare_features,
)
from loyalty_analytics.segmentation.kmeans import DEFAULT_K_RANGE, PARAMS_COLUMNS, KMeansSegmenter
from loyalty_analytics.segmentation.model import SEGMENT_COLUMNS, SegmentationModel
from loyalty_analytics.segmentation.naming import descriptors, name_segments
from loyalty_analytics.segmentation.profiles import PROFILE_COLUMNS, segment_profiles
from loyalty_analytics.segmentation.run import SegmentationResult, run_segmentation
from loyalty_analytics.segmentation.tiers import (
    TIER_CUTOFFS,
    TIER_DIRECTION,
    TIER_FEATURES,
    TIER_SCORE_DECIMALS,
    TierModel,
    tier_from_score,
    weighted_tier_score,
)

__all__ = [
    "DEFAULT_K_RANGE",
    "FEATURE_SETS",
    "LOG_FEATURES",
    "MODEL_NAMES",
    "PARAMS_COLUMNS",
    "PROFILE_COLUMNS",
    "PROFILE_FEATURES",
    "SEGMENT_COLUMNS",
    "TIER_CUTOFFS",
    "TIER_DIRECTION",
    "TIER_FEATURES",
    "TIER_SCORE_DECIMALS",
    "KMeansSegmenter",
    "SegmentationModel",
    "SegmentationResult",
    "TierModel",
    "available_feature_sets",
    "descriptors",
    "evaluate_segmentation",
    "in_customer_order",
    "name_segments",
    "prepare_features",
    "run_segmentation",
    "segment_profiles",
    "stability_labels",
    "tier_from_score",
    "weighted_tier_score",
]
