"""The segmentation of a customer base (scikit-learn conventions): one KMeans model per
available feature set, the primary one, and seed 004's tiers. Fitted once
(:meth:`SegmentationModel.fit`), stored as one long table (:meth:`SegmentationModel.to_params`,
the dbt model int_segmentation_params) and applied from it (:meth:`SegmentationModel.predict`)."""

from __future__ import annotations

import pandas as pd
from sklearn.base import BaseEstimator

from loyalty_analytics.segmentation.features import (
    FEATURE_SETS,
    MODEL_NAMES,
    available_feature_sets,
    in_customer_order,
)
from loyalty_analytics.segmentation.kmeans import DEFAULT_K_RANGE, PARAMS_COLUMNS, KMeansSegmenter
from loyalty_analytics.segmentation.tiers import TIER_FEATURES, TierModel

SEGMENT_COLUMNS = [
    "customer_id",
    "segment_id",
    "segment_name",
    "segmentation_model",
    "segment_id_seed001",
    "segment_name_seed001",
    "segment_id_rfmtclv",
    "segment_name_rfmtclv",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "T_score",
    "clv_score",
    "tier_score",
    "tier",
]
INTEGER_COLUMNS = [
    "segment_id",
    "segment_id_seed001",
    "segment_id_rfmtclv",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "T_score",
    "clv_score",
]
TEXT_COLUMNS = ["segment_name", "segment_name_seed001", "segment_name_rfmtclv", "tier", "segmentation_model"]
PRIMARY = "is_primary"  # component of the primary KMeans model's marker row


class SegmentationModel(BaseEstimator):
    """Learned: ``segmenters_`` (feature set -> fitted :class:`KMeansSegmenter`, in FEATURE_SETS
    order), ``primary_`` (the feature set of segment_id: ``primary`` when available), ``tiers_``
    (:class:`TierModel`, None without the tier columns)."""

    def __init__(
        self,
        k_range=DEFAULT_K_RANGE,
        sample_size: int = 5000,
        random_state: int = 42,
        n_init: int = 10,
        primary: str = "seed001",
    ):
        self.k_range = k_range
        self.sample_size = sample_size
        self.random_state = random_state
        self.n_init = n_init
        self.primary = primary

    def fit(self, features: pd.DataFrame) -> SegmentationModel:
        """Fit on a feature frame (features.prepare_features); any row order gives the same model."""
        df = in_customer_order(features)
        sets = available_feature_sets(df)
        if not sets:
            raise ValueError("no segmentation feature set is available: need customer_rfm columns (+ CLV)")
        self.segmenters_ = {
            name: KMeansSegmenter(
                columns, MODEL_NAMES[name], self.k_range, None, self.sample_size, self.random_state, self.n_init
            ).fit(df)
            for name, columns in sets.items()
        }
        self.primary_ = self.primary if self.primary in sets else next(iter(sets))
        self.tiers_ = None
        if all(c in df.columns for c in TIER_FEATURES.values()):
            # seed 004's classifier target: its RFM+T+CLV clusters
            target = self.segmenters_["rfmtclv" if "rfmtclv" in sets else self.primary_].labels_
            self.tiers_ = TierModel(random_state=self.random_state).fit(df, target)
        return self

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """One row per customer (customer order), SEGMENT_COLUMNS: segment id and name per
        feature set and of the primary model, tier scores and tier."""
        df = in_customer_order(features)
        out = pd.DataFrame({"customer_id": df["customer_id"]})
        for c in SEGMENT_COLUMNS[1:]:
            out[c] = None
        for name, segmenter in self.segmenters_.items():
            labels = segmenter.predict(df)
            out[f"segment_id_{name}"] = labels
            out[f"segment_name_{name}"] = [segmenter.segment_names_[i] for i in labels]
        out["segment_id"] = out[f"segment_id_{self.primary_}"]
        out["segment_name"] = out[f"segment_name_{self.primary_}"]
        out["segmentation_model"] = MODEL_NAMES[self.primary_]
        if self.tiers_ is not None:
            scores = self.tiers_.scores(df)
            for c in scores.columns:
                out[c] = scores[c].to_numpy()
        for c in INTEGER_COLUMNS:
            out[c] = pd.array(out[c], dtype="Int64")
        out["tier_score"] = pd.to_numeric(out["tier_score"]).astype(float)
        for c in TEXT_COLUMNS:
            out[c] = out[c].astype("string")
        return out[SEGMENT_COLUMNS]

    def to_params(self) -> pd.DataFrame:
        """Every model's rows (PARAMS_COLUMNS) plus the primary model's marker row."""
        primary = pd.DataFrame([(MODEL_NAMES[self.primary_], PRIMARY, None, None, 1.0, None)], columns=PARAMS_COLUMNS)
        parts = [m.to_params() for m in self.segmenters_.values()] + [primary]
        parts += [self.tiers_.to_params()] if self.tiers_ is not None else []
        return pd.concat(parts, ignore_index=True).astype({"segment_id": "Int64"})

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> SegmentationModel:
        """The segmentation a :meth:`to_params` table stores (rows in any order), ready to predict."""
        by_model = dict(list(params.groupby("model_name", sort=False)))
        sets = [s for s in FEATURE_SETS if MODEL_NAMES[s] in by_model]
        if not sets:
            raise ValueError("params table holds no KMeans segmentation model")
        segmenters = {s: KMeansSegmenter.from_params(by_model[MODEL_NAMES[s]]) for s in sets}
        first = segmenters[sets[0]]
        primary = next(s for s in sets if (by_model[MODEL_NAMES[s]]["component"] == PRIMARY).any())
        model = cls(first.k_range, first.sample_size, first.random_state, first.n_init, primary)
        model.segmenters_, model.primary_ = segmenters, primary
        tier_rows = by_model.get(MODEL_NAMES["tier"])
        model.tiers_ = TierModel.from_params(tier_rows) if tier_rows is not None else None
        return model
