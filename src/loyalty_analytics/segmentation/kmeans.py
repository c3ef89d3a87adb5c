"""One KMeans segmentation model (scikit-learn conventions): log1p + standard scaling, k chosen
by silhouette on a seeded sample, segment ids 1..k by decreasing value score, rule-based names.
Stored as long rows (:meth:`KMeansSegmenter.to_params`); applying it needs only those rows.
Choices and measurements: docs/segmentation.md, "KMeans"."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from loyalty_analytics.segmentation.features import LOG_FEATURES, raw_matrix, standardise
from loyalty_analytics.segmentation.naming import descriptors, name_segments, value_score

DEFAULT_K_RANGE = (2, 8)
PARAMS_COLUMNS = ["model_name", "component", "segment_id", "key", "value", "segment_name"]
HYPERPARAMETERS = ("random_state", "sample_size", "n_init")


def fit_kmeans(x: np.ndarray, k: int, random_state: int, n_init: int) -> KMeans:
    with threadpool_limits(limits=1):  # one BLAS/OpenMP thread: see docs/segmentation.md
        return KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(x)


def silhouette_many(x: np.ndarray, label_sets, chunk: int = 1000) -> list[np.ndarray]:
    """Per-sample silhouette for several labelings of the same points with ONE pass over the
    pairwise distances (chunked, float64): for each labeling, a = mean distance to the own
    cluster (excluding self), b = smallest mean distance to another cluster, s = (b-a)/max(a,b),
    0 for singletons -- the same definition as sklearn.metrics.silhouette_samples."""
    n = len(x)
    onehots, offsets = [], [0]
    for lab in label_sets:
        _, inv = np.unique(lab, return_inverse=True)
        oh = np.zeros((n, inv.max() + 1))
        oh[np.arange(n), inv] = 1.0
        onehots.append((inv, oh))
        offsets.append(offsets[-1] + oh.shape[1])
    big = np.hstack([oh for _, oh in onehots])
    sums = np.empty((n, big.shape[1]))
    sq = (x**2).sum(1)
    with threadpool_limits(limits=1):
        for s in range(0, n, chunk):
            d2 = sq[s : s + chunk, None] + sq[None, :] - 2.0 * x[s : s + chunk] @ x.T
            sums[s : s + chunk] = np.sqrt(np.maximum(d2, 0.0)) @ big
    out = []
    for (inv, oh), lo, hi in zip(onehots, offsets[:-1], offsets[1:], strict=True):
        sz = oh.sum(0)
        block = sums[:, lo:hi]
        own = block[np.arange(n), inv]
        a = own / np.maximum(sz[inv] - 1, 1)
        other = block / sz[None, :]
        other[np.arange(n), inv] = np.inf
        b = other.min(1)
        out.append(np.where(sz[inv] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0))
    return out


def silhouette_sample(n: int, sample_size: int, random_state: int) -> np.ndarray:
    """Sorted indices of the seeded sample that k selection and the silhouette metric use."""
    return np.sort(np.random.default_rng(random_state).choice(n, size=min(sample_size, n), replace=False))


def _rows(model_name, component, pairs, segment_id=None, segment_name=None) -> list[tuple]:
    return [(model_name, component, segment_id, key, float(value), segment_name) for key, value in pairs]


class KMeansSegmenter(BaseEstimator):
    """KMeans on ``features`` of a customer frame in customer order (features.in_customer_order).

    ``n_clusters=None`` chooses k in ``k_range`` by the mean silhouette on a sample of
    ``sample_size`` customers drawn with ``random_state``; the chosen k is refitted on all.
    Learned: ``log_features_``, ``scaler_mean_``, ``scaler_scale_``, ``cluster_centers_``
    (scaled, row i = segment i+1), ``segment_names_``, ``silhouette_by_k_``, ``n_clusters_``,
    ``fit_seconds_``; ``labels_`` (segment ids of the fitted rows) is not stored.
    """

    def __init__(
        self,
        features=(),
        model_name: str = "",
        k_range=DEFAULT_K_RANGE,
        n_clusters: int | None = None,
        sample_size: int = 5000,
        random_state: int = 42,
        n_init: int = 10,
    ):
        self.features = features
        self.model_name = model_name
        self.k_range = k_range
        self.n_clusters = n_clusters
        self.sample_size = sample_size
        self.random_state = random_state
        self.n_init = n_init

    def fit(self, df: pd.DataFrame) -> KMeansSegmenter:
        started = time.perf_counter()
        features = list(self.features)
        logs = [f for f in features if f in LOG_FEATURES]
        raw = raw_matrix(df, features, logs)
        mean = np.nanmean(raw, axis=0)
        scale = np.nanstd(raw, axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        x = standardise(raw, mean, scale)
        sample = silhouette_sample(len(x), self.sample_size, self.random_state)
        silhouette_by_k = {} if self.n_clusters is not None else self._silhouette_by_k(x[sample])
        k = self.n_clusters or max(silhouette_by_k, key=lambda kk: (np.nan_to_num(silhouette_by_k[kk], nan=-1), -kk))
        km = fit_kmeans(x, k, self.random_state, self.n_init)
        desc = descriptors(df)
        order = self._value_order(km, value_score(desc))
        remap = np.empty(k, dtype=int)
        remap[order] = np.arange(1, k + 1)
        self.labels_ = remap[km.labels_]
        self.log_features_ = logs
        self.scaler_mean_, self.scaler_scale_ = mean, scale
        self.cluster_centers_ = km.cluster_centers_[order]
        self.segment_names_ = name_segments(desc.groupby(self.labels_).mean())
        self.silhouette_by_k_ = silhouette_by_k
        self.n_clusters_ = k
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _silhouette_by_k(self, xs: np.ndarray) -> dict:
        ks = [kk for kk in range(self.k_range[0], self.k_range[1] + 1) if kk < len(xs)]
        labels = [fit_kmeans(xs, kk, self.random_state, self.n_init).labels_ for kk in ks]
        return {
            kk: float(s.mean()) if len(set(lab)) > 1 else float("nan")
            for kk, lab, s in zip(ks, labels, silhouette_many(xs, labels), strict=True)
        }

    @staticmethod
    def _value_order(km: KMeans, score: np.ndarray) -> list[int]:
        """KMeans clusters by decreasing mean value score (centroid as tie-break): ids do not
        depend on KMeans' label order."""
        k = len(km.cluster_centers_)
        mean = [score[km.labels_ == c].mean() if (km.labels_ == c).any() else -np.inf for c in range(k)]
        return sorted(range(k), key=lambda c: (-mean[c], tuple(km.cluster_centers_[c])))

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Scaled feature matrix (log1p, standardised, missing = feature mean)."""
        return standardise(
            raw_matrix(df, list(self.features), self.log_features_), self.scaler_mean_, self.scaler_scale_
        )

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """segment_id (1..k) of each row = nearest stored centroid."""
        x = self.transform(df)
        d = ((x[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
        return d.argmin(axis=1) + 1

    def centroids_original(self) -> np.ndarray:
        c = self.cluster_centers_ * self.scaler_scale_ + self.scaler_mean_
        for j, f in enumerate(self.features):
            if f in self.log_features_:
                c[:, j] = np.expm1(c[:, j])
        return c

    def to_params(self) -> pd.DataFrame:
        """Long rows (PARAMS_COLUMNS): hyper-parameters, per feature its position, log1p flag and
        scaler, per segment and feature the scaled centroid (with the segment name), silhouette
        by k, the chosen k and the fit seconds."""
        name, features = self.model_name, list(self.features)
        hyper = [(h, getattr(self, h)) for h in HYPERPARAMETERS]
        hyper += [("k_min", self.k_range[0]), ("k_max", self.k_range[1])]
        hyper += [("n_clusters", self.n_clusters)] if self.n_clusters is not None else []
        rows = _rows(name, "hyperparameter", hyper)
        rows += _rows(name, "feature_position", [(f, j) for j, f in enumerate(features)])
        rows += _rows(name, "log1p", [(f, f in self.log_features_) for f in features])
        rows += _rows(name, "scaler_mean", zip(features, self.scaler_mean_, strict=True))
        rows += _rows(name, "scaler_scale", zip(features, self.scaler_scale_, strict=True))
        for sid, centre in enumerate(self.cluster_centers_, start=1):
            rows += _rows(name, "centroid_scaled", zip(features, centre, strict=True), sid, self.segment_names_[sid])
        rows += _rows(name, "silhouette_at_k", [(str(k), s) for k, s in self.silhouette_by_k_.items()])
        rows += _rows(name, "chosen_k", [(None, self.n_clusters_)])
        rows += _rows(name, "fit_seconds", [(None, self.fit_seconds_)])
        return pd.DataFrame(rows, columns=PARAMS_COLUMNS).astype({"segment_id": "Int64"})

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> KMeansSegmenter:
        """The model one ``model_name``'s rows store; rows may come in any order."""

        def component(name: str) -> pd.DataFrame:
            return params[params["component"] == name]

        def by_key(name: str) -> pd.Series:
            return component(name).set_index("key")["value"]

        positions = by_key("feature_position").sort_values()
        features = list(positions.index)
        hyper = by_key("hyperparameter")
        model = cls(
            features,
            str(params["model_name"].iloc[0]),
            (int(hyper["k_min"]), int(hyper["k_max"])),
            int(hyper["n_clusters"]) if "n_clusters" in hyper.index else None,
            **{h: int(hyper[h]) for h in HYPERPARAMETERS},
        )
        logs = by_key("log1p")
        model.log_features_ = [f for f in features if logs[f] > 0]
        model.scaler_mean_ = by_key("scaler_mean").reindex(features).to_numpy(dtype=float)
        model.scaler_scale_ = by_key("scaler_scale").reindex(features).to_numpy(dtype=float)
        centres = component("centroid_scaled").astype({"segment_id": int})
        ids = sorted(centres["segment_id"].unique())
        model.cluster_centers_ = np.array(
            [
                centres[centres["segment_id"] == i].set_index("key")["value"].reindex(features).to_numpy(dtype=float)
                for i in ids
            ]
        )
        model.segment_names_ = centres.drop_duplicates("segment_id").set_index("segment_id")["segment_name"].to_dict()
        silhouettes = by_key("silhouette_at_k")
        model.silhouette_by_k_ = {int(k): float(silhouettes[k]) for k in sorted(silhouettes.index, key=int)}
        model.n_clusters_ = int(component("chosen_k")["value"].iloc[0])
        model.fit_seconds_ = float(component("fit_seconds")["value"].iloc[0])
        return model
