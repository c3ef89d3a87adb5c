"""Rule-based segment names from descriptor profiles (rules and thresholds: docs/segmentation.md,
"Naming rules"), and the value score that orders segment ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

# descriptor -> (qualifier of the highest, of the lowest segment) when segments share a name;
# the order breaks ties between descriptors with equal spread
QUALIFIERS = {
    "female": ("mostly female", "mostly male"),
    "age": ("older", "younger"),
    "value": ("higher-value", "lower-value"),
    "freq": ("more frequent", "less frequent"),
    "ticket": ("bigger baskets", "smaller baskets"),
    "lapse": ("lapsed longer", "more recent"),
    "lpay": ("more L.Pay", "less L.Pay"),
}


def descriptors(df: pd.DataFrame) -> pd.DataFrame:
    """Customer-level descriptors z-scored over all customers (NaN when unavailable): freq = log
    receipts, ticket = log spend per receipt, value = log total spend, lapse = days since last
    purchase, lpay = L.Pay share of spend, tenure = T, female, age."""
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


def value_score(desc: pd.DataFrame) -> np.ndarray:
    """z(log total spend) + z(log receipts) per customer: segment 1 has the highest mean."""
    return np.nan_to_num(desc["value"].to_numpy()) + np.nan_to_num(desc["freq"].to_numpy())


def _level(z, lo=-0.25, hi=0.25):
    return "low" if z < lo else ("high" if z > hi else "mid")


def _base_name(f, t, v, lapse, tenure) -> str:
    if lapse >= 0.5 and f <= 0:
        return "at risk"
    if f >= 0.5 and v >= 0.5:
        return "loyal high-spend"
    if f >= 0.25 and t <= -0.25:
        return "frequent low-spend"
    if f <= -0.25 and t >= 0.25:
        return "occasional big-ticket"
    if tenure <= -0.75 and lapse <= 0:
        return "new customers"
    return f"{_level(f) if np.isfinite(f) else 'mid'}-frequency {_level(t) if np.isfinite(t) else 'mid'}-spend"


def _qualify_shared_names(names: dict, profile: pd.DataFrame) -> None:
    """Within a group of segments sharing a name, qualify by the descriptor that spreads most."""
    by_name: dict = {}
    for sid in profile.index:
        by_name.setdefault(names[sid], []).append(sid)
    for base, group in by_name.items():
        if len(group) < 2:
            continue
        spreads = {
            c: np.ptp(profile.loc[group, c].to_numpy(dtype=float))
            for c in QUALIFIERS
            if c in profile.columns and profile.loc[group, c].notna().all()
        }
        if not spreads:
            continue
        c = max(spreads, key=lambda k: (spreads[k], -list(QUALIFIERS).index(k)))
        order = sorted(group, key=lambda s: (-profile.at[s, c], s))
        hi, lo = QUALIFIERS[c]
        for rank, sid in enumerate(order):
            names[sid] = f"{base}, {hi if rank == 0 else (lo if rank == len(order) - 1 else 'middle')}"


def name_segments(profile: pd.DataFrame) -> dict:
    """Segment names from descriptor z-profiles (index segment_id; columns as in
    :func:`descriptors`). First matching rule wins; names are unique and deterministic."""

    def g(sid, c):
        v = profile.at[sid, c] if c in profile.columns else np.nan
        return v if np.isfinite(v) else np.nan

    names = {}
    if "lpay" in profile.columns and profile["lpay"].notna().any():
        top = profile["lpay"].astype(float).idxmax()
        if g(top, "lpay") >= 0.5:
            names[top] = "L.Pay VIP" if g(top, "value") >= 0.25 else "L.Pay regulars"
    for sid in profile.index:
        if sid not in names:
            names[sid] = _base_name(*(g(sid, c) for c in ("freq", "ticket", "value", "lapse", "tenure")))
    _qualify_shared_names(names, profile)
    seen: dict = {}
    for sid in profile.index:  # any remaining duplicates
        n = names[sid]
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[sid] = f"{n} #{seen[n]}"
    return names
