"""What the recommendation dbt Python models run (python_models/recommendations), in the order
fit → stored model → apply:

* ``store_models`` fits models and stores each as a versioned artifact (``model_store``), or
  reuses the stored version when one exists for the same model, settings, seed, data and cut;
  it returns one registry row per stored model (int_recommender_models: the published models
  on all history up to observation_end; int_recommender_evaluation_models: every model and
  baseline on history up to calibration_end);
* ``evaluate_models``, ``recommend`` and ``stamp_mission`` load the artifacts a registry lists
  and apply them — they never fit.

Inputs are plain DataFrames read from dbt models: lines (int_session_lines), customers
(int_customer_attributes), products (stg_lpoint__products) and preference scores as of the cut.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from loyalty_analytics import dbt_io, model_store

from . import stamp_mission as stamp_mission_module
from .base import RecommenderBase
from .baselines import default_baselines
from .data import InteractionData, build_interaction_data
from .evaluation import evaluate
from .oracle import OracleRecommender
from .preference_nn import PreferenceNN
from .sequential import SequentialRecommender
from .topk import recommend_per_affiliate
from .torch_utils import SESSION_LOCK

# The purchase lines' money column (`spend`, as everywhere after staging); this is the one place
# that names it (InteractionData keeps calling it `amount`).
LINE_AMOUNT_COLUMN = "spend"
# Only what build_interaction_data reads: converting every column of 4.5M lines to pandas
# costs minutes and gigabytes at the real scale.
LINE_COLUMNS = (
    f"customer_id, product_code, affiliate_code, purchased_at, session_id, quantity, {LINE_AMOUNT_COLUMN} as amount"
)
PREFERENCE_COLUMNS = "affiliate_code, customer_id, product_code, preference_score"
REGISTRY_COLUMNS = [
    "model_name",
    "model_kind",
    "model_class",
    "version",
    "used_for",
    "cut_date",
    "random_state",
    "data_fingerprint",
    "trained_at",
    "fit_seconds",
    "n_customers",
    "n_products",
    "artifact_path",
]


# dbt var `recommender_training`: "full" trains as documented; "quick" — for CI and smoke runs of
# the whole pipeline, never for published results — keeps the models and code paths but cuts
# their optimisation to about a tenth (fewer Adam steps, epochs and L-BFGS iterations).
TRAINING_SETTINGS = {
    "full": {"preference_nn": {}, "sequential_gru": {}},
    "quick": {
        "preference_nn": {"epochs": 3, "min_total_steps": 96, "refit_iterations": 5, "preference_epochs": 2},
        "sequential_gru": {"epochs": 1, "min_steps_per_epoch": 5},
    },
}


def neural_models(random_state: int, training: str = "full") -> list[RecommenderBase]:
    """The published models. Torch sessions run one at a time (torch_utils.SESSION_LOCK), so
    each may use both cores: measured at 30,000 customers, 2 threads fit 1.35–1.45× faster
    than 1 (21 s vs 29 s, 18 s vs 25 s)."""
    if training not in TRAINING_SETTINGS:
        raise ValueError(f"recommender_training must be one of {', '.join(TRAINING_SETTINGS)}, got {training!r}")
    settings = TRAINING_SETTINGS[training]
    return [
        PreferenceNN(num_threads=2, random_state=random_state, **settings["preference_nn"]),
        SequentialRecommender(num_threads=2, random_state=random_state, **settings["sequential_gru"]),
    ]


def evaluation_models(random_state: int, training: str = "full") -> list[RecommenderBase]:
    return default_baselines(random_state) + neural_models(random_state, training)


# ---------------------------------------------------------------------------- data
def split_at(
    cut_date: dt.date,
    observation_end: dt.date,
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    preference: pd.DataFrame | None,
) -> tuple[InteractionData, pd.DataFrame]:
    """History up to ``cut_date`` and the truth after it, up to observation_end."""
    lines = lines[pd.to_datetime(lines["purchased_at"]).dt.date <= observation_end]
    return build_interaction_data(lines, customers, products, preference, cut_date)


def history(observation_end: dt.date, **relations) -> InteractionData:
    """All history up to observation_end from the DuckDB relations ``lines``, ``customers``,
    ``products`` and ``preference`` (fitting needs it; applying a stored model does not)."""
    frames = dbt_io.frames(**relations)
    data, _ = split_at(observation_end, observation_end, preference=frames.pop("preference", None), **frames)
    return data


# ---------------------------------------------------------------------------- fit → store
def store_models(
    models: list[RecommenderBase], data: InteractionData, used_for: str, root: str | Path | None = None
) -> pd.DataFrame:
    """Fit and store each model (or reuse its stored version); one registry row per model."""
    rows = []
    for model in models:
        path = model_store.artifact_dir(model.name, model.version_for(data), root)
        if model_store.is_stored(path):
            print(
                f"[recommenders] {model.name}: stored version {path.name} reused (same settings, seed and data)",
                flush=True,
            )
        else:
            model.fit(data)
            model.save(path)
            print(
                f"[recommenders] {model.name}: fitted on history to {data.cut_date} in {model.fit_seconds_:.1f} s, "
                f"stored in {path}",
                flush=True,
            )
        rows.append(_registry_row(model_store.read_metadata(path), path, used_for))
    return pd.DataFrame(rows, columns=REGISTRY_COLUMNS)


def _registry_row(meta: dict, path: Path, used_for: str) -> dict:
    return {
        "model_name": meta["model_name"],
        "model_kind": "recommender",
        "model_class": meta["class"],
        "version": meta["version"],
        "used_for": used_for,
        "cut_date": dt.date.fromisoformat(meta["cut_date"]),
        "random_state": int(meta["random_state"]),
        "data_fingerprint": meta["data_fingerprint"],
        "trained_at": pd.Timestamp(meta["trained_at"]).tz_convert(None),
        "fit_seconds": float(meta["fit_seconds"]),
        "n_customers": int(meta["sizes"]["n_customers"]),
        "n_products": int(meta["sizes"]["n_products"]),
        "artifact_path": str(path),
    }


# ---------------------------------------------------------------------------- stored → apply
def load_models(registry: pd.DataFrame, data: InteractionData) -> list[RecommenderBase]:
    """The models a registry lists, loaded from their artifacts and checked against ``data``."""
    models = []
    for path in registry.sort_values("model_name", kind="stable")["artifact_path"]:
        model = model_store.load_artifact(path)
        model.check_vocabularies(data)
        models.append(model)
    return models


def _truth_matches(truth_dir, customer_ids) -> bool:
    """The oracle may only score data the truth was generated with (stale truth next to
    real files must not produce numbers)."""
    path = Path(truth_dir) / "customers.parquet"
    if not path.exists():
        return False
    truth_ids = pd.read_parquet(path, columns=["customer_id"])["customer_id"].astype(str)
    return set(customer_ids.astype(str)) <= set(truth_ids)


def evaluate_models(
    registry: pd.DataFrame,
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    calibration_end: dt.date,
    observation_end: dt.date,
    truth_dir=None,
) -> pd.DataFrame:
    """Judge the stored models fitted up to calibration_end on the products bought after it
    (up to observation_end), plus the oracle on generated data. Rows: model_name, metric, k,
    split, value, n_customers."""
    data, truth = split_at(calibration_end, observation_end, lines, customers, products, preference=None)
    print(
        f"[recommenders] evaluation: {data.n_customers} customers, {data.n_products} products, "
        f"{len(data.lines)} history lines, {len(truth)} (customer, product) pairs after {calibration_end}",
        flush=True,
    )
    models = load_models(registry, data)
    if truth_dir is not None and _truth_matches(truth_dir, data.customer_ids):
        models.append(OracleRecommender(truth_dir, observation_end).fit(data))
    else:
        print("[recommenders] no matching ground truth: the oracle is not evaluated", flush=True)
    started = time.perf_counter()
    with SESSION_LOCK:
        metrics = evaluate(models, data, truth)
    print(f"[recommenders] evaluated {len(models)} models in {time.perf_counter() - started:.1f} s", flush=True)
    extra = pd.DataFrame(_training_figures(models), columns=metrics.columns)
    metrics = pd.concat([metrics, extra], ignore_index=True) if len(extra) else metrics
    metrics["k"] = metrics["k"].astype("Int64")
    return metrics


# learned attribute -> metric row (split train_validation)
TRAINING_FIGURES = (
    ("validation_rmse_", "validation_rmse", None),
    ("validation_hr10_", "validation_hit_rate", 10),
    ("fit_seconds_", "fit_seconds", None),
)


def _training_figures(models: list) -> list[tuple]:
    rows = []
    for model in models:
        for attribute, metric, k in TRAINING_FIGURES:
            value = getattr(model, attribute, None)
            if value is not None:
                rows.append((model.name, metric, k, "train_validation", float(value), None))
    return rows


def recommend(registry: pd.DataFrame, data: InteractionData, n: int) -> pd.DataFrame:
    """Top-n not-yet-bought products per customer × affiliate from each stored model."""
    frames = []
    for model in load_models(registry, data):
        started = time.perf_counter()
        with SESSION_LOCK:
            recs = recommend_per_affiliate(model, data, n=n)
        recs["model_name"] = model.name
        recs["model_version"] = model.version_
        frames.append(recs)
        print(
            f"[recommenders] {model.name} {model.version_}: {len(recs)} recommendations in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return pd.concat(frames, ignore_index=True)


def stamp_mission(registry: pd.DataFrame, data: InteractionData, model_name: str = "preference_nn") -> pd.DataFrame:
    """Seed 000's stamp mission from the stored ``model_name`` (see recommenders.stamp_mission)."""
    (model,) = load_models(registry[registry["model_name"] == model_name], data)
    return stamp_mission_module.stamp_mission(model, data)
