"""What the recommendation dbt Python models run: evaluate every model on the time split,
publish the neural models' top-N per affiliate, and seed 000's stamp mission.

Inputs are plain DataFrames read from dbt models (see python_models/recommendations):
lines (int_session_lines), customers (int_customer_attributes), products
(stg_lpoint__products) and preference scores as of the cut date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time

import numpy as np
import pandas as pd
import torch

from loyalty_analytics import __version__, dbt_io
from loyalty_analytics.recommenders.baselines import default_baselines
from loyalty_analytics.recommenders.data import InteractionData, build_interaction_data
from loyalty_analytics.recommenders.evaluation import evaluate
from loyalty_analytics.recommenders.oracle import OracleRecommender
from loyalty_analytics.recommenders.preference_nn import PreferenceNN
from loyalty_analytics.recommenders.sequential import SequentialRecommender
from loyalty_analytics.recommenders.topk import recommend_per_affiliate

log = logging.getLogger(__name__)

# Only what build_interaction_data reads: converting every column of 4.5M lines to pandas
# costs minutes and gigabytes at the real scale.
LINE_COLUMNS = "customer_id, product_code, affiliate_code, purchased_at, session_id, quantity, amount"
PREFERENCE_COLUMNS = "affiliate_code, customer_id, product_code, preference_score"

# Fitted models of this process, keyed by (model name, cut date, seed, data fingerprint):
# dbt runs its Python models in one process, so int_stamp_mission reuses the model
# int_recommendations fitted instead of training it again. A miss just refits.
_FITTED: dict[tuple, object] = {}
# dbt runs Python models in threads of one process; torch's RNG and thread settings are
# process-global, so two models training at once would make each other's results depend on
# timing. One model fits or scores at a time.
_TORCH_LOCK = threading.RLock()


def neural_models() -> list:
    # Fits run one at a time (_TORCH_LOCK), so each may use both cores: measured at 30,000
    # customers, 2 threads fit 1.35–1.45× faster than 1 (21 s vs 29 s, 18 s vs 25 s).
    return [PreferenceNN(num_threads=2), SequentialRecommender(num_threads=2)]


def _fingerprint(data: InteractionData) -> str:
    lines = data.lines
    digest = hashlib.sha1()
    digest.update(str((len(lines), data.n_customers, data.n_products, str(data.cut_date))).encode())
    for column in ("customer_idx", "product_idx", "session_id"):
        digest.update(np.ascontiguousarray(lines[column].to_numpy()).tobytes())
    return digest.hexdigest()[:12]


def fit_cached(model, data: InteractionData, seed: int):
    key = (model.name, str(data.cut_date), seed, _fingerprint(data))
    with _TORCH_LOCK:
        return _fit_cached(model, data, seed, key)


def _fit_cached(model, data: InteractionData, seed: int, key: tuple):
    if key not in _FITTED:
        started = time.perf_counter()
        model.fit(data, seed=seed)
        print(f"[recommenders] {model.name}: fitted on history to {data.cut_date} in {time.perf_counter() - started:.1f} s",
              flush=True)
        _FITTED[key] = model
    return _FITTED[key]


def model_version(model_name: str, data: InteractionData, seed: int) -> str:
    """Package version + a hash of what the model was fitted on: equal inputs, equal version."""
    return f"{__version__}+{hashlib.sha1(f'{model_name}|{seed}|{_fingerprint(data)}'.encode()).hexdigest()[:8]}"


def _truth_matches(truth_dir, customer_ids: np.ndarray) -> bool:
    """The oracle may only score data the truth was generated with (stale truth next to
    real files must not produce numbers)."""
    from pathlib import Path

    path = Path(truth_dir) / "customers.parquet"
    if not path.exists():
        return False
    truth_ids = pd.read_parquet(path, columns=["customer_id"])["customer_id"].astype(str)
    return set(customer_ids.astype(str)) <= set(truth_ids)


def evaluate_models(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    preference: pd.DataFrame,
    calibration_end: dt.date,
    observation_end: dt.date,
    seed: int = 42,
    truth_dir=None,
) -> pd.DataFrame:
    """Fit every model and baseline on history up to calibration_end; truth = products
    bought after it up to observation_end. Rows: model_name, metric, k, split, value, n_customers."""
    lines = lines[pd.to_datetime(lines["purchased_at"]).dt.date <= observation_end]
    data, truth = build_interaction_data(lines, customers, products, preference, calibration_end)
    print(f"[recommenders] evaluation: {data.n_customers} customers, {data.n_products} products, "
          f"{len(data.lines)} history lines, {len(truth)} (customer, product) pairs after {calibration_end}", flush=True)
    models = [fit_cached(model, data, seed) for model in default_baselines() + neural_models()]
    if truth_dir is not None and _truth_matches(truth_dir, data.customer_ids):
        models.append(OracleRecommender(truth_dir, observation_end).fit(data, seed=seed))
    else:
        print("[recommenders] no matching ground truth: the oracle is not evaluated", flush=True)
    started = time.perf_counter()
    with _TORCH_LOCK:
        metrics = evaluate(models, data, truth)
    print(f"[recommenders] evaluated {len(models)} models in {time.perf_counter() - started:.1f} s", flush=True)
    extra = []
    for model in models:
        if getattr(model, "validation_rmse", None) is not None:
            extra.append((model.name, "validation_rmse", None, "train_validation", float(model.validation_rmse), None))
        if getattr(model, "validation_hr10", None) is not None:
            extra.append((model.name, "validation_hit_rate", 10, "train_validation", float(model.validation_hr10), None))
        if getattr(model, "fit_seconds", None) is not None:
            extra.append((model.name, "fit_seconds", None, "train_validation", float(model.fit_seconds), None))
    if extra:
        metrics = pd.concat([metrics, pd.DataFrame(extra, columns=metrics.columns)], ignore_index=True)
    metrics["k"] = metrics["k"].astype("Int64")
    return metrics


_FULL_HISTORY: dict[tuple, InteractionData] = {}


def full_history(observation_end, **relations) -> InteractionData:
    """All history up to observation_end as InteractionData, from the DuckDB relations
    ``lines``, ``customers``, ``products``, ``preference``. int_recommendations and
    int_stamp_mission read the same refs: the cache key is computed in SQL (row counts, total
    amount), so the second caller reuses the first's result without converting millions of
    lines to pandas again."""
    lines_count, lines_amount = relations["lines"].aggregate("count(*), sum(amount)").fetchall()[0]
    key = (str(observation_end), lines_count, float(lines_amount or 0.0),
           *(relations[name].aggregate("count(*)").fetchall()[0][0] for name in ("preference", "customers")))
    if key not in _FULL_HISTORY:
        _FULL_HISTORY.clear()
        inputs = dbt_io.frames(**relations)
        lines = inputs.pop("lines")
        kept = lines[pd.to_datetime(lines["purchased_at"]).dt.date <= observation_end]
        _FULL_HISTORY[key], _ = build_interaction_data(kept, inputs["customers"], inputs["products"], inputs["preference"],
                                                       observation_end)
    return _FULL_HISTORY[key]


def recommend(data: InteractionData, n: int, seed: int = 42) -> pd.DataFrame:
    """Top-n not-yet-bought products per customer × affiliate for each neural model,
    fitted on all history up to observation_end."""
    frames = []
    for model in neural_models():
        fitted = fit_cached(model, data, seed)
        started = time.perf_counter()
        with _TORCH_LOCK:
            recs = recommend_per_affiliate(fitted, data, n=n)
        recs["model_name"] = fitted.name
        recs["model_version"] = model_version(fitted.name, data, seed)
        frames.append(recs)
        print(f"[recommenders] {fitted.name}: {len(recs)} recommendations in {time.perf_counter() - started:.1f} s",
              flush=True)
    return pd.concat(frames, ignore_index=True)


def stamp_mission(data: InteractionData, seed: int = 42, n_categories: int = 5, n_products: int = 4,
                  batch_size: int = 2048) -> pd.DataFrame:
    """Seed 000's stamp mission: per customer the top major categories by mean predicted
    preference over the products they have not bought yet, and the best unbought products
    under each. Batched over customers; loops only over the 5 category ranks."""
    model = fit_cached(PreferenceNN(), data, seed)
    majors = torch.as_tensor(data.product_features["major_idx"].to_numpy().astype(np.int64))
    n_major = int(majors.max()) + 1
    one_hot = torch.nn.functional.one_hot(majors, n_major).to(torch.float32)  # [P, C]
    sold = torch.as_tensor(data.assortment.any(axis=0))
    bought = data.bought_matrix().tocsr()
    has_history = np.flatnonzero(data.has_history())
    parts = []
    with _TORCH_LOCK, torch.inference_mode():
        for start in range(0, len(has_history), batch_size):
            idx = has_history[start:start + batch_size]
            scores = torch.as_tensor(np.asarray(model.score(idx)), dtype=torch.float32)
            candidate = sold.unsqueeze(0) & torch.as_tensor(bought[idx].toarray() == 0)
            masked = torch.where(candidate, scores, torch.zeros_like(scores))
            sums = masked @ one_hot
            counts = candidate.to(torch.float32) @ one_hot
            means = torch.where(counts > 0, sums / counts.clamp(min=1), torch.full_like(sums, -torch.inf))
            means[:, 0] = -torch.inf  # major_idx 0 = unknown category
            k_cat = min(n_categories, n_major)
            top_means, top_cats = torch.topk(means, k_cat, dim=1)
            for rank in range(k_cat):
                in_cat = candidate & (majors.unsqueeze(0) == top_cats[:, rank:rank + 1])
                cat_scores = torch.where(in_cat, scores, torch.full_like(scores, -torch.inf))
                top_scores, top_products = torch.topk(cat_scores, n_products, dim=1)
                valid = torch.isfinite(top_scores) & torch.isfinite(top_means[:, rank:rank + 1])
                rows, cols = torch.nonzero(valid, as_tuple=True)
                parts.append(pd.DataFrame({
                    "customer_idx": idx[rows.numpy()],
                    "category_rank": rank + 1,
                    "major_idx": top_cats[rows, rank].numpy(),
                    "category_mean_score": top_means[rows, rank].numpy(),
                    "product_rank": cols.numpy() + 1,
                    "product_idx": top_products[rows, cols].numpy(),
                    "score": top_scores[rows, cols].numpy(),
                }))
    result = pd.concat(parts, ignore_index=True)
    # drop categories left without any unbought product, then renumber ranks without gaps
    result = result.sort_values(["customer_idx", "category_rank", "product_rank"], kind="stable")
    result["category_rank"] = result.groupby("customer_idx")["category_rank"].rank(method="dense").astype(np.int32)
    result["customer_id"] = data.customer_ids[result["customer_idx"].to_numpy()]
    result["product_code"] = data.product_codes[result["product_idx"].to_numpy()]
    majors_vocab = np.asarray(data.category_majors, dtype=object)
    result["category_major"] = majors_vocab[result["major_idx"].to_numpy() - 1]
    result["model_name"] = model.name
    return result[["customer_id", "category_rank", "category_major", "category_mean_score", "product_rank",
                   "product_code", "score", "model_name"]].reset_index(drop=True)
