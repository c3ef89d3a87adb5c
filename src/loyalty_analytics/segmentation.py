"""Customer segmentation: KMeans segments with rule-based names (seed 001) and seed 004's tiers.

Feature sets (a set is fitted only when all its columns exist and vary; the CDNOW datasets have
no demographics or L.Pay, so only ``rfmtclv`` runs there):

* ``seed001`` -- model_name ``kmeans_seed001_features``: seed 001's R, F, M1, M2, L.Pay, sex, age
  = ``recency`` (days first->last purchase, as the seed's R), ``n_receipts`` (F), ``lpay_spend``
  (M1), ``other_spend`` (M2), ``lpay_receipts`` (L.Pay use count), ``is_female`` (0/1, from
  ``gender``), ``age_band`` (20..70).
* ``rfmtclv`` -- model_name ``kmeans_rfmtclv_features``: seed 004's RFM + T + CLV =
  ``days_since_last_purchase``, ``frequency``, ``monetary_value``, ``T``, CLV (``clv_3m`` by
  default, seed 004's "CLV_3_months").

Transform: ``log1p`` on the skewed non-negative money/count features (:data:`LOG_FEATURES`),
then ``StandardScaler``. k is chosen by the mean silhouette over ``k_range`` (2..8) on a random
sample of ``sample_size`` (5,000) customers with ``random_state``; KMeans is fitted on the sample
for each k, then the chosen k is refitted on all customers (``n_init`` starts). Segment ids are
1..k ordered by decreasing mean value score (z of log total spend + z of log receipts), so they
do not depend on KMeans' label order. Assignment (:meth:`KMeansSegmenter.apply`) needs only the
stored parameters (:meth:`KMeansSegmenter.params_table` / :meth:`KMeansSegmenter.from_params`).

Naming rules (applied to each segment's *descriptor profile* = mean over its members of
customer-level z-scores computed over all customers; descriptors: ``freq`` = log receipts,
``ticket`` = log spend per receipt, ``value`` = log total spend, ``lapse`` = days since last
purchase, ``lpay`` = L.Pay share of spend, ``tenure`` = T). First matching rule wins:

1. ``L.Pay VIP``  -- the single segment with the highest ``lpay`` z, if ``lpay >= 0.5`` and
   ``value >= 0.25``; (a highest-L.Pay segment with lower value is ``L.Pay regulars``).
2. ``at risk``    -- ``lapse >= 0.5`` and ``freq <= 0``.
3. ``loyal high-spend`` -- ``freq >= 0.5`` and ``value >= 0.5``.
4. ``frequent low-spend`` -- ``freq >= 0.25`` and ``ticket <= -0.25``.
5. ``occasional big-ticket`` -- ``freq <= -0.25`` and ``ticket >= 0.25``.
6. ``new customers`` -- ``tenure <= -0.75`` and ``lapse <= 0``.
7. otherwise ``<low|mid|high>-frequency <low|mid|high>-spend`` (by ``freq`` and ``ticket``,
   thresholds -/+0.25).

Names are made unique deterministically: within a group of segments sharing a name, the
descriptor (female share, age, value, freq, ticket, lapse, lpay) with the largest spread across
the group is used to append a qualifier (e.g. ``"at risk, higher-value"`` / ``"at risk,
lower-value"``, ``"..., mostly female"``); remaining ties get `` #2``, `` #3``.

Tiers (seed 004): quartile scores 1..4 of R (days since last purchase; most recent = 4), F
(frequency), M (monetary_value), T (longest tenure = 4) and CLV, via the stored quartile cut
points: ``score = 1 + #(cuts the value exceeds)`` (ties share a score). Weights = impurity
feature importances of a RandomForest *classifier predicting the rfmtclv KMeans segment* from
those five variables -- exactly what seed 004 did (LightGBM on its RFM+T+CLV KMeans clusters,
accuracy 0.986; sklearn's RandomForest here because LightGBM is not in the stack). Weighted
score in [1, 4], rounded to 6 decimals so that float error crosses neither the bounds nor the
cuts (:func:`weighted_tier_score`); tiers: ``VIP >= 3.25 > Gold >= 2.75 > Silver >= 2.25 >
Bronze >= 1.75 > At Risk``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

FEATURE_SETS = {
    "seed001": ["recency", "n_receipts", "lpay_spend", "other_spend", "lpay_receipts", "is_female", "age_band"],
    "rfmtclv": ["days_since_last_purchase", "frequency", "monetary_value", "T", "clv_3m"],
}
MODEL_NAMES = {"seed001": "kmeans_seed001_features", "rfmtclv": "kmeans_rfmtclv_features", "tier": "tier_seed004"}
LOG_FEATURES = {
    "frequency", "n_receipts", "monetary_value", "total_spend", "lpay_spend", "other_spend",
    "lpay_receipts", "online_spend", "clv_1m", "clv_3m", "clv_6m", "clv_12m",
}
PROFILE_FEATURES = [
    "recency", "days_since_last_purchase", "frequency", "n_receipts", "monetary_value", "total_spend",
    "lpay_spend", "other_spend", "lpay_receipts", "T", "clv_3m", "clv_12m", "p_alive", "is_female", "age_band",
]
TIER_FEATURES = {"recency": "days_since_last_purchase", "frequency": "frequency", "monetary": "monetary_value", "T": "T", "clv": "clv_3m"}
TIER_DIRECTION = {"recency": -1, "frequency": 1, "monetary": 1, "T": 1, "clv": 1}  # -1: smaller is better
TIER_SCORE_DECIMALS = 6  # tier_score precision: see weighted_tier_score
TIER_CUTOFFS = [("VIP", 3.25), ("Gold", 2.75), ("Silver", 2.25), ("Bronze", 1.75), ("At Risk", -np.inf)]
DEFAULT_K_RANGE = (2, 8)


# --------------------------------------------------------------------------- features


def prepare_features(rfm: pd.DataFrame, clv: pd.DataFrame | None = None, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join customer_rfm + CLV predictions + demographics into one customer-level frame."""
    df = rfm.copy()
    df["customer_id"] = df["customer_id"].astype(str)
    if clv is not None:
        c = clv.copy()
        c["customer_id"] = c["customer_id"].astype(str)
        keep = [x for x in c.columns if x == "customer_id" or x not in df.columns]
        df = df.merge(c[keep], on="customer_id", how="left")
    if customers is not None and len(customers):
        d = customers.copy()
        d["customer_id"] = d["customer_id"].astype(str)
        if "gender" in d.columns:
            g = d["gender"].astype("string").str.lower()
            d["is_female"] = np.where(g == "female", 1.0, np.where(g == "male", 0.0, np.nan))
        if "age_band" in d.columns:
            d["age_band"] = pd.to_numeric(d["age_band"], errors="coerce")
        keep = [x for x in ("customer_id", "is_female", "age_band") if x in d.columns]
        df = df.merge(d[keep], on="customer_id", how="left")
    if "days_since_last_purchase" not in df.columns and {"T", "recency"} <= set(df.columns):
        df["days_since_last_purchase"] = df["T"] - df["recency"]
    if "n_receipts" not in df.columns and "frequency" in df.columns:
        df["n_receipts"] = df["frequency"] + 1
    return df


def available_feature_sets(df: pd.DataFrame, feature_sets=None) -> dict:
    """Feature sets whose columns all exist, have no nulls after fill, and are not all constant."""
    out = {}
    for name, cols in (feature_sets or FEATURE_SETS).items():
        if not all(c in df.columns for c in cols):
            continue
        x = df[cols].apply(pd.to_numeric, errors="coerce")
        if x.isna().all().any():
            continue
        varying = [c for c in cols if x[c].nunique(dropna=True) > 1]
        # a set needs its defining features: seed001 is pointless without any L.Pay or demographic signal
        if name == "seed001" and not ({"lpay_spend", "lpay_receipts", "is_female", "age_band"} & set(varying)):
            continue
        if len(varying) >= 2:
            out[name] = varying
    return out


def _descriptors(df: pd.DataFrame) -> pd.DataFrame:
    """Customer-level z-scored descriptors used by the naming rules (NaN when unavailable)."""
    n = len(df)

    def col(c):
        return pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float) if c in df.columns else np.full(n, np.nan)

    receipts = col("n_receipts")
    spend = col("total_spend")
    if np.isnan(spend).all():
        spend = col("monetary_value") * np.maximum(col("frequency"), 1)
    raw = {
        "freq": np.log1p(np.maximum(receipts, 0)),
        "ticket": np.log1p(np.maximum(np.divide(spend, receipts, out=np.full(n, np.nan), where=receipts > 0), 0)),
        "value": np.log1p(np.maximum(spend, 0)),
        "lapse": col("days_since_last_purchase"),
        "lpay": np.divide(col("lpay_spend"), spend, out=np.full(n, np.nan), where=spend > 0),
        "tenure": col("T"),
        "female": col("is_female"),
        "age": col("age_band"),
    }
    out = {}
    for k, v in raw.items():
        sd = np.nanstd(v) if not np.isnan(v).all() else np.nan
        out[k] = (v - np.nanmean(v)) / sd if sd and np.isfinite(sd) and sd > 0 else np.full(n, np.nan)
    return pd.DataFrame(out, index=df.index)


def _level(z, lo=-0.25, hi=0.25):
    return "low" if z < lo else ("high" if z > hi else "mid")


def name_segments(profile: pd.DataFrame) -> dict:
    """Segment names from descriptor z-profiles (index segment_id; columns as in _descriptors)."""
    def g(sid, c):
        v = profile.at[sid, c] if c in profile.columns else np.nan
        return v if np.isfinite(v) else np.nan

    names = {}
    ids = list(profile.index)
    lpay_ok = "lpay" in profile.columns and profile["lpay"].notna().any()
    if lpay_ok:
        top = profile["lpay"].astype(float).idxmax()
        if g(top, "lpay") >= 0.5:
            names[top] = "L.Pay VIP" if g(top, "value") >= 0.25 else "L.Pay regulars"
    for sid in ids:
        if sid in names:
            continue
        f, t, v, lapse, ten = (g(sid, c) for c in ("freq", "ticket", "value", "lapse", "tenure"))
        if lapse >= 0.5 and f <= 0:
            names[sid] = "at risk"
        elif f >= 0.5 and v >= 0.5:
            names[sid] = "loyal high-spend"
        elif f >= 0.25 and t <= -0.25:
            names[sid] = "frequent low-spend"
        elif f <= -0.25 and t >= 0.25:
            names[sid] = "occasional big-ticket"
        elif ten <= -0.75 and lapse <= 0:
            names[sid] = "new customers"
        else:
            names[sid] = f"{_level(f) if np.isfinite(f) else 'mid'}-frequency {_level(t) if np.isfinite(t) else 'mid'}-spend"
    # uniqueness
    qualifiers = {
        "female": ("mostly female", "mostly male"), "age": ("older", "younger"), "value": ("higher-value", "lower-value"),
        "freq": ("more frequent", "less frequent"), "ticket": ("bigger baskets", "smaller baskets"),
        "lapse": ("lapsed longer", "more recent"), "lpay": ("more L.Pay", "less L.Pay"),
    }
    by_name: dict = {}
    for sid in ids:
        by_name.setdefault(names[sid], []).append(sid)
    for base, group in by_name.items():
        if len(group) < 2:
            continue
        spreads = {
            c: np.ptp(profile.loc[group, c].to_numpy(dtype=float))
            for c in qualifiers if c in profile.columns and profile.loc[group, c].notna().all()
        }
        if spreads:
            c = max(spreads, key=lambda k: (spreads[k], -list(qualifiers).index(k)))
            order = sorted(group, key=lambda s: (-profile.at[s, c], s))
            hi, lo = qualifiers[c]
            for rank, sid in enumerate(order):
                q = hi if rank == 0 else (lo if rank == len(order) - 1 else "middle")
                names[sid] = f"{base}, {q}"
    seen: dict = {}
    for sid in ids:  # any remaining duplicates
        n = names[sid]
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[sid] = f"{n} #{seen[n]}"
    return names


# --------------------------------------------------------------------------- KMeans


@dataclass
class KMeansSegmenter:
    features: list
    log_features: list
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    centroids_scaled: np.ndarray  # (k, n_features), rows ordered by segment_id 1..k
    segment_names: dict  # segment_id -> name
    silhouette_by_k: dict = field(default_factory=dict)
    model_name: str = ""

    @property
    def k(self):
        return len(self.centroids_scaled)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        return _scale(_raw_matrix(df, self.features, self.log_features), self.scaler_mean, self.scaler_scale)

    def apply(self, df: pd.DataFrame) -> np.ndarray:
        """segment_id (1..k) of each row = nearest stored centroid."""
        x = self.transform(df)
        d = ((x[:, None, :] - self.centroids_scaled[None, :, :]) ** 2).sum(axis=2)
        return d.argmin(axis=1) + 1

    def centroids_original(self) -> np.ndarray:
        c = self.centroids_scaled * self.scaler_scale + self.scaler_mean
        for j, f in enumerate(self.features):
            if f in self.log_features:
                c[:, j] = np.expm1(c[:, j])
        return c

    def params_table(self) -> pd.DataFrame:
        """Long table: model_name, component, segment_id, feature, value (+ segment_name)."""
        rows = []
        for j, f in enumerate(self.features):
            rows.append(("scaler_mean", None, f, self.scaler_mean[j]))
            rows.append(("scaler_scale", None, f, self.scaler_scale[j]))
            rows.append(("log1p", None, f, float(f in self.log_features)))
        orig = self.centroids_original()
        for i in range(self.k):
            for j, f in enumerate(self.features):
                rows.append(("centroid_scaled", i + 1, f, self.centroids_scaled[i, j]))
                rows.append(("centroid_original", i + 1, f, orig[i, j]))
        for kk, s in self.silhouette_by_k.items():
            rows.append(("silhouette_at_k", None, str(kk), s))
        rows.append(("chosen_k", None, None, float(self.k)))
        out = pd.DataFrame(rows, columns=["component", "segment_id", "feature", "value"])
        out.insert(0, "model_name", self.model_name)
        out["segment_id"] = out["segment_id"].astype("Int64")
        out["segment_name"] = out["segment_id"].map(lambda s: None if pd.isna(s) else self.segment_names[int(s)])
        return out

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> "KMeansSegmenter":
        p = params
        sc = p[p.component == "scaler_mean"]
        features = list(sc.feature)
        scale = p[p.component == "scaler_scale"].set_index("feature").value.reindex(features).to_numpy(dtype=float)
        logs = p[p.component == "log1p"].set_index("feature").value
        cs = p[p.component == "centroid_scaled"]
        ids = sorted(cs.segment_id.astype(int).unique())
        cent = np.array([cs[cs.segment_id == i].set_index("feature").value.reindex(features).to_numpy(dtype=float) for i in ids])
        names = cs.drop_duplicates("segment_id").set_index(cs.drop_duplicates("segment_id").segment_id.astype(int)).segment_name.to_dict()
        sil = {int(r.feature): r.value for r in p[p.component == "silhouette_at_k"].itertuples()}
        return cls(features, [f for f in features if logs.get(f, 0) > 0], sc.value.to_numpy(dtype=float), scale, cent, names, sil,
                   str(p.model_name.iloc[0]))


def _raw_matrix(df: pd.DataFrame, features, log_features) -> np.ndarray:
    x = np.array(df[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float), copy=True)
    for j, f in enumerate(features):
        if f in log_features:
            x[:, j] = np.log1p(np.maximum(x[:, j], 0.0))
    return x


def _scale(x, mean, scale):
    x = (x - mean) / scale
    return np.where(np.isnan(x), 0.0, x)  # missing -> feature mean


def _kmeans(x, k, random_state, n_init):
    # single-threaded BLAS/OpenMP: on 2 shared cores sklearn's default threading (OpenMP + two
    # OpenBLAS pools) oversubscribes and was measured ~100x slower than one thread
    with threadpool_limits(limits=1):
        return KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(x)


def _silhouette_many(x, label_sets, chunk: int = 1000):
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
            d2 = sq[s:s + chunk, None] + sq[None, :] - 2.0 * x[s:s + chunk] @ x.T
            sums[s:s + chunk] = np.sqrt(np.maximum(d2, 0.0)) @ big
    out = []
    for (inv, oh), lo, hi in zip(onehots, offsets[:-1], offsets[1:]):
        sz = oh.sum(0)
        block = sums[:, lo:hi]
        own = block[np.arange(n), inv]
        a = own / np.maximum(sz[inv] - 1, 1)
        other = block / sz[None, :]
        other[np.arange(n), inv] = np.inf
        b = other.min(1)
        sil = np.where(sz[inv] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
        out.append(sil)
    return out


def _silhouette(x, labels):
    return _silhouette_many(x, [labels])[0]


def fit_kmeans(
    df: pd.DataFrame,
    features,
    model_name: str = "",
    k_range=DEFAULT_K_RANGE,
    k: int | None = None,
    sample_size: int = 5000,
    random_state: int = 42,
    n_init: int = 10,
    with_silhouette: bool = True,
):
    """Fit scaler + KMeans; returns (segmenter, labels 1..k, silhouette sample info)."""
    features = list(features)
    logs = [f for f in features if f in LOG_FEATURES]
    raw = _raw_matrix(df, features, logs)
    mean = np.nanmean(raw, axis=0)
    scale = np.nanstd(raw, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x = _scale(raw, mean, scale)
    n = len(x)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    xs = x[sample]
    sil = {}
    if k is None:
        ks = [kk for kk in range(k_range[0], k_range[1] + 1) if kk < len(xs)]
        labs = [_kmeans(xs, kk, random_state, n_init).labels_ for kk in ks]
        for kk, lab, s in zip(ks, labs, _silhouette_many(xs, labs)):
            sil[kk] = float(s.mean()) if len(set(lab)) > 1 else float("nan")
        chosen = max(sil, key=lambda kk: (np.nan_to_num(sil[kk], nan=-1), -kk))
    else:
        chosen = k
    km = _kmeans(x, chosen, random_state, n_init)
    # order segments by value score for deterministic ids
    desc = _descriptors(df)
    value_score = np.nan_to_num(desc["value"].to_numpy()) + np.nan_to_num(desc["freq"].to_numpy())
    mean_val = np.array([value_score[km.labels_ == c].mean() if (km.labels_ == c).any() else -np.inf for c in range(chosen)])
    order = sorted(range(chosen), key=lambda c: (-mean_val[c], tuple(km.cluster_centers_[c])))
    remap = np.empty(chosen, dtype=int)
    remap[order] = np.arange(1, chosen + 1)
    labels = remap[km.labels_]
    centroids = km.cluster_centers_[order]
    profile = desc.groupby(labels).mean()
    seg = KMeansSegmenter(features, logs, mean, scale, centroids, name_segments(profile), sil, model_name)
    if not with_silhouette:
        return seg, labels, (sample, None)
    sil_final = _silhouette(xs, labels[sample]) if chosen > 1 else np.full(len(sample), np.nan)
    return seg, labels, (sample, sil_final)


# --------------------------------------------------------------------------- tiers


@dataclass
class Tiering:
    cuts: dict  # name -> (q25, q50, q75) on the oriented value
    weights: dict  # name -> importance weight (sum 1)
    classifier_oob_accuracy: float = float("nan")

    def scores(self, df: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for name, col in TIER_FEATURES.items():
            if name not in self.weights:
                continue
            v = TIER_DIRECTION[name] * pd.to_numeric(df[col], errors="coerce").fillna(0).to_numpy(dtype=float)
            out[f"{name}_score"] = 1 + (v[:, None] > np.asarray(self.cuts[name])[None, :]).sum(axis=1)
        s = pd.DataFrame(out, index=df.index)
        names = list(self.weights)
        s["tier_score"] = weighted_tier_score(s[[f"{n}_score" for n in names]].to_numpy(dtype=float),
                                              np.array([self.weights[n] for n in names], dtype=float))
        s["tier"] = tier_from_score(s["tier_score"].to_numpy())
        return s


def weighted_tier_score(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the 1..4 scores (rows of ``scores``), rounded to TIER_SCORE_DECIMALS.

    Mathematically a weighted mean lies between the smallest and largest score, so within [1, 4],
    and equal scores give exactly that score. The floating-point sum misses that by a few ulps:
    normalised importances can sum to 1.0000000000000002, and a customer scoring 4 everywhere
    then got 4.000000000000001 (failing the [1, 4] test). That error is below 1e-14, far under
    the 1e-6 step, so rounding to 6 decimals returns the exact mean to that documented precision:
    the bounds hold exactly (integers are exact after rounding) and a score equal to a tier cut
    (e.g. 2.75) is compared as that number, not as 2.7499999999999996."""
    weights = weights / weights.sum()
    # column by column rather than a BLAS product: the summation order never depends on threads
    total = np.zeros(len(scores))
    for j, w in enumerate(weights):
        total += w * scores[:, j]
    return np.round(total, TIER_SCORE_DECIMALS)


def tier_from_score(score) -> np.ndarray:
    score = np.asarray(score, dtype=float)
    out = np.full(score.shape, TIER_CUTOFFS[-1][0], dtype=object)
    for name, cut in reversed(TIER_CUTOFFS[:-1]):
        out[score >= cut] = name
    return out


def fit_tiering(df: pd.DataFrame, target, random_state: int = 42, max_train: int = 10000) -> Tiering:
    """Quartile cut points + RandomForest importances predicting ``target`` (the rfmtclv segment)."""
    from sklearn.ensemble import RandomForestClassifier

    names = [n for n, c in TIER_FEATURES.items() if c in df.columns]
    x = np.column_stack([TIER_DIRECTION[n] * pd.to_numeric(df[TIER_FEATURES[n]], errors="coerce").fillna(0).to_numpy(dtype=float) for n in names])
    cuts = {n: tuple(np.quantile(x[:, j], [0.25, 0.5, 0.75])) for j, n in enumerate(names)}
    target = np.asarray(target)
    idx = np.arange(len(x))
    if len(idx) > max_train:
        idx = np.sort(np.random.default_rng(random_state).choice(len(x), max_train, replace=False))
    if len(np.unique(target[idx])) > 1:
        rf = RandomForestClassifier(n_estimators=100, max_depth=8, min_samples_leaf=5, oob_score=True,
                                    random_state=random_state, n_jobs=1).fit(x[idx], target[idx])
        imp = rf.feature_importances_
        oob = float(rf.oob_score_)
    else:
        imp, oob = np.ones(len(names)), float("nan")
    imp = imp / imp.sum()
    return Tiering(cuts, dict(zip(names, map(float, imp))), oob)


# --------------------------------------------------------------------------- orchestration


@dataclass
class SegmentationResult:
    segments: pd.DataFrame
    profiles: pd.DataFrame
    metrics: pd.DataFrame
    params: pd.DataFrame
    models: dict


def _metric(model_name, metric, value, split="full", k=None):
    return (model_name, metric, k, split, float(value))


def _profiles(df, labels, names, model_name, sil_by_customer, cluster_features, seg: KMeansSegmenter | None):
    rows = []
    n = len(df)
    orig = seg.centroids_original() if seg is not None else None
    feats = [f for f in PROFILE_FEATURES if f in df.columns]
    grouped = df[feats].apply(pd.to_numeric, errors="coerce").groupby(labels)
    means, medians = grouped.mean(), grouped.median()
    sizes = pd.Series(labels).value_counts()
    sil = pd.Series(sil_by_customer, index=df.index).groupby(labels).mean() if sil_by_customer is not None else None
    for sid in sorted(sizes.index):
        for f in feats:
            j = cluster_features.index(f) if f in cluster_features else None
            rows.append({
                "model_name": model_name, "segment_id": int(sid), "segment_name": names[sid],
                "n_customers": int(sizes[sid]), "share": sizes[sid] / n,
                "silhouette": float(sil.get(sid, np.nan)) if sil is not None else np.nan,
                "feature": f, "mean": means.at[sid, f], "median": medians.at[sid, f],
                "is_cluster_feature": j is not None,
                "centroid_original": orig[sid - 1, j] if j is not None and seg is not None else np.nan,
                "centroid_scaled": seg.centroids_scaled[sid - 1, j] if j is not None and seg is not None else np.nan,
                "scaler_mean": seg.scaler_mean[j] if j is not None and seg is not None else np.nan,
                "scaler_scale": seg.scaler_scale[j] if j is not None and seg is not None else np.nan,
                "log1p": (f in seg.log_features) if j is not None and seg is not None else False,
            })
    return rows


SEGMENT_COLUMNS = [
    "customer_id", "segment_id", "segment_name", "segmentation_model",
    "segment_id_seed001", "segment_name_seed001", "segment_id_rfmtclv", "segment_name_rfmtclv",
    "recency_score", "frequency_score", "monetary_score", "T_score", "clv_score", "tier_score", "tier",
]


def run_segmentation(
    df: pd.DataFrame,
    k_range=DEFAULT_K_RANGE,
    sample_size: int = 5000,
    random_state: int = 42,
    n_init: int = 10,
    stability_check: bool = True,
    truth: pd.DataFrame | None | str = "auto",
    primary: str = "seed001",
) -> SegmentationResult:
    """Fit every available feature set + tiers on a prepared frame (see :func:`prepare_features`).
    Output rows are ordered by customer_id; results do not depend on the input row order."""
    # sort by customer_id: the sample, the classifier's subsample and KMeans' tie-breaks must not
    # depend on the (arbitrary) row order a warehouse query returns
    df = df.assign(customer_id=df["customer_id"].astype(str)).sort_values("customer_id", kind="stable").reset_index(drop=True)
    sets = available_feature_sets(df)
    if not sets:
        raise ValueError("no segmentation feature set is available: need customer_rfm columns (+ CLV)")
    seg_out = pd.DataFrame({"customer_id": df["customer_id"].astype(str)})
    for c in SEGMENT_COLUMNS[1:]:
        seg_out[c] = None
    metrics, profiles, params, models = [], [], [], {}
    if isinstance(truth, str) and truth == "auto":
        from loyalty_analytics.clv import load_truth

        truth = load_truth(df["customer_id"], ["segment_id"])
    for set_name, feats in sets.items():
        mname = MODEL_NAMES[set_name]
        t0 = time.perf_counter()
        seg, labels, (sample, sil_sample) = fit_kmeans(df, feats, mname, k_range, None, sample_size, random_state, n_init)
        secs = time.perf_counter() - t0
        models[set_name] = seg
        seg_out[f"segment_id_{set_name}"] = labels
        seg_out[f"segment_name_{set_name}"] = [seg.segment_names[i] for i in labels]
        sil_cust = np.full(len(df), np.nan)
        sil_cust[sample] = sil_sample
        profiles += _profiles(df, labels, seg.segment_names, mname, sil_cust, feats, seg)
        params.append(seg.params_table())
        metrics += [
            _metric(mname, "silhouette", np.nanmean(sil_sample)),
            _metric(mname, "k", seg.k),
            _metric(mname, "inertia_per_customer", ((seg.transform(df) - seg.centroids_scaled[labels - 1]) ** 2).sum() / len(df)),
            _metric(mname, "fit_seconds", secs),
        ]
        metrics += [_metric(mname, "silhouette_at_k", s, "k_selection", kk) for kk, s in seg.silhouette_by_k.items()]
        if stability_check:
            _, labels2, _ = fit_kmeans(df, feats, mname, k_range, seg.k, sample_size, random_state + 1, n_init, False)
            metrics.append(_metric(mname, "ari_seed_stability", adjusted_rand_score(labels, labels2)))
        if truth is not None:
            metrics.append(_metric(mname, "ari_vs_truth", adjusted_rand_score(truth["segment_id"].astype(str), labels), "truth"))
    primary = primary if primary in sets else next(iter(sets))
    seg_out["segment_id"] = seg_out[f"segment_id_{primary}"]
    seg_out["segment_name"] = seg_out[f"segment_name_{primary}"]
    seg_out["segmentation_model"] = MODEL_NAMES[primary]
    # tiers (seed 004): classifier target = the rfmtclv KMeans segment
    if all(c in df.columns for c in TIER_FEATURES.values()):
        target = seg_out["segment_id_rfmtclv"] if "rfmtclv" in sets else seg_out["segment_id"]
        tiering = fit_tiering(df, target.to_numpy(), random_state)
        models["tier"] = tiering
        sc = tiering.scores(df)
        for c in sc.columns:
            seg_out[c] = sc[c].to_numpy()
        tier_rank = {name: i + 1 for i, (name, _) in enumerate(TIER_CUTOFFS)}
        tier_ids = sc["tier"].map(tier_rank).to_numpy()
        profiles += _profiles(df.assign(tier_score=sc["tier_score"]), tier_ids, {v: k for k, v in tier_rank.items()},
                              MODEL_NAMES["tier"], None, [], None)
        tname = MODEL_NAMES["tier"]
        metrics.append(_metric(tname, "classifier_oob_accuracy", tiering.classifier_oob_accuracy))
        for n_, w in tiering.weights.items():
            metrics.append(_metric(tname, f"weight_{n_}", w))
        for name, _ in TIER_CUTOFFS:
            metrics.append(_metric(tname, f"share_{name.lower().replace(' ', '_')}", (sc["tier"] == name).mean()))
        trows = []
        for n_, cuts in tiering.cuts.items():
            for q, v in zip((25, 50, 75), cuts):
                trows.append((tname, "quartile_cut", None, f"{n_}_q{q}", TIER_DIRECTION[n_] * v))
            trows.append((tname, "weight", None, n_, tiering.weights[n_]))
        for name, cut in TIER_CUTOFFS:
            trows.append((tname, "tier_min_score", None, name, cut if np.isfinite(cut) else 1.0))
        params.append(pd.DataFrame(trows, columns=["model_name", "component", "segment_id", "feature", "value"]))
    for c in ("segment_id", "segment_id_seed001", "segment_id_rfmtclv"):
        seg_out[c] = pd.array(seg_out[c], dtype="Int64")
    for c in ("recency_score", "frequency_score", "monetary_score", "T_score", "clv_score"):
        seg_out[c] = pd.array(seg_out[c], dtype="Int64")
    seg_out["tier_score"] = pd.to_numeric(seg_out["tier_score"]).astype(float)
    for c in ("segment_name", "segment_name_seed001", "segment_name_rfmtclv", "tier", "segmentation_model"):
        seg_out[c] = seg_out[c].astype("string")
    metrics_df = pd.DataFrame(metrics, columns=["model_name", "metric", "k", "split", "value"])
    metrics_df["k"] = metrics_df["k"].astype("Int64")
    params_df = pd.concat(params, ignore_index=True)
    params_df["segment_id"] = params_df["segment_id"].astype("Int64")
    return SegmentationResult(seg_out[SEGMENT_COLUMNS], pd.DataFrame(profiles), metrics_df, params_df, models)


def segment_customers(rfm: pd.DataFrame, clv: pd.DataFrame | None, customers: pd.DataFrame | None,
                      random_state: int = 42, stability_check: bool = False,
                      truth: pd.DataFrame | None | str = None) -> SegmentationResult:
    """What the dbt Python models call: features from the marts, then the seeded fit."""
    return run_segmentation(prepare_features(rfm, clv, customers), random_state=random_state,
                            stability_check=stability_check, truth=truth)
