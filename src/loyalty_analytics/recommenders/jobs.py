"""What the recommendation dbt Python models run (python_models/recommendations), in the order
fit → stored model → apply:

* ``store_models`` fits models and stores each as a versioned artifact (``model_store``), or
  reuses the stored version when one exists for the same model, settings, seed, data and cut;
  it returns one registry row per stored model. Three rounds: int_recommender_selection_models
  (every model and baseline on history up to selection_end: the inner split that picks the
  champions and fits the calibrators), int_recommender_evaluation_models (every model and
  baseline up to calibration_end: the reported split) and int_recommender_models (the
  champions ∪ preference_nn on all history up to observation_end: what is published);
* ``evaluate_models``, ``evaluate_kind_splits``, ``fit_calibrators``, ``reliability``,
  ``champion_lists``, ``recommend`` and ``stamp_mission`` load the artifacts a registry lists
  and apply them — they never fit; ``choose_champions``, ``ece_rows`` and ``champion_rows``
  work on their tables.

Inputs are plain DataFrames read from dbt models: lines (int_session_lines), customers
(int_customer_attributes), products (stg_lpoint__products) and preference scores as of the cut.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty_analytics import dbt_io, model_store

from . import stamp_mission as stamp_mission_module
from .base import RecommenderBase
from .baselines import default_baselines
from .calibration import (
    PurchaseCalibrator,
    calibration_features,
    expected_calibration_error,
    min_max_scaled,
    recent_activity,
    reliability_table,
    row_keys,
)
from .data import InteractionData, affiliate_truth_pairs, build_interaction_data
from .evaluation import evaluate
from .kinds import KINDS, evaluate_kinds, kind_lists
from .oracle import OracleRecommender
from .preference_nn import PreferenceNN
from .sequential import SequentialRecommender
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
    """Every model and baseline, simplest first: the order also breaks ties between champions."""
    return default_baselines(random_state) + neural_models(random_state, training)


# published whatever the champions are: the stamp mission (seed 000) reads its scores
ALWAYS_PUBLISHED = ("preference_nn",)


def published_models(champions: pd.DataFrame, random_state: int, training: str = "full") -> list[RecommenderBase]:
    """The champion of every kind ∪ ALWAYS_PUBLISHED, unfitted, in evaluation_models order."""
    wanted = set(champions["model_name"]) | set(ALWAYS_PUBLISHED)
    return [model for model in evaluation_models(random_state, training) if model.name in wanted]


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
    return build_interaction_data(_lines_until(lines, observation_end), customers, products, preference, cut_date)


def _lines_until(lines: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """The lines of days up to and including ``end``."""
    return lines[pd.to_datetime(lines["purchased_at"]) < pd.Timestamp(end) + pd.Timedelta(days=1)]


def affiliate_split(
    cut_date: dt.date, end: dt.date, lines: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame
) -> tuple[InteractionData, pd.DataFrame]:
    """History up to ``cut_date`` (without preference scores: applying a stored model does not
    need them) and what was bought at which affiliate after it, up to ``end``
    (data.affiliate_truth_pairs)."""
    lines = _lines_until(lines, end)
    data, _ = build_interaction_data(lines, customers, products, None, cut_date)
    return data, affiliate_truth_pairs(lines, data)


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


# ---------------------------------------------------------------------------- kinds
def horizon_days(settings: dict) -> int:
    """W = observation_end − calibration_end in days: the purchase probability's horizon, the
    length of the reported and the inner truth windows, and the window of recent activity."""
    return (settings["observation_end"] - settings["calibration_end"]).days


def evaluate_kind_splits(
    registry: pd.DataFrame,
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    cut_date: dt.date,
    end: dt.date,
    split_prefix: str = "",
    truth_dir=None,
) -> pd.DataFrame:
    """The stored models (fitted up to ``cut_date``) on the kind splits (kinds.evaluate_kinds)
    with the truth (cut_date, end]; split = ``split_prefix`` + kind. Plus the oracle when the
    generator's truth matches (``truth_dir``; the reported split only)."""
    data, bought = affiliate_split(cut_date, end, lines, customers, products)
    models = load_models(registry, data)
    if truth_dir is not None and _truth_matches(truth_dir, data.customer_ids):
        models.append(OracleRecommender(truth_dir, end).fit(data))
    with SESSION_LOCK:
        metrics = evaluate_kinds(models, data, bought)
    metrics["split"] = split_prefix + metrics["split"]
    return metrics


def choose_champions(
    selection_metrics: pd.DataFrame, order: list[str], split_prefix: str = "selection_"
) -> pd.DataFrame:
    """Per kind the model with the best nDCG@10 on its selection split (ties: the first in
    ``order``, evaluation_models order: the simpler model); kinds without units have no
    champion. Columns: recommendation_kind, model_name, selection_ndcg_10, selection_n_units."""
    rank = {name: position for position, name in enumerate(order)}
    ndcg = selection_metrics[
        (selection_metrics["metric"] == "ndcg")
        & (selection_metrics["k"] == 10)
        & selection_metrics["model_name"].isin(list(rank))
        & selection_metrics["value"].notna()
    ]
    rows = []
    for kind in KINDS:
        candidates = ndcg[ndcg["split"] == split_prefix + kind]
        if candidates.empty:
            continue
        best = min(candidates.itertuples(index=False), key=lambda r: (-r.value, rank[r.model_name]))
        rows.append((kind, best.model_name, float(best.value), int(best.n_customers)))
    columns = ["recommendation_kind", "model_name", "selection_ndcg_10", "selection_n_units"]
    return pd.DataFrame(rows, columns=columns).astype(
        {
            "recommendation_kind": object,
            "model_name": object,
            "selection_ndcg_10": "float64",
            "selection_n_units": "int64",
        }
    )


def _calibrators_by_key(calibrators: pd.DataFrame) -> dict[tuple[str, str], PurchaseCalibrator]:
    """(model_name, kind) -> calibrator, from the rows of int_recommendation_calibrators."""
    out = {}
    for (model_name, kind), rows in calibrators.groupby(["model_name", "recommendation_kind"], sort=False):
        out[(model_name, kind)] = PurchaseCalibrator.from_rows(dict(zip(rows["parameter"], rows["value"], strict=True)))
    return out


def _bought(lists: pd.DataFrame, bought: pd.DataFrame, data: InteractionData) -> np.ndarray:
    """bool per listed row: bought at that affiliate in the truth window."""

    def keys(frame):
        columns = (frame[c].to_numpy() for c in ("customer_idx", "affiliate_idx", "product_idx"))
        return row_keys(*columns, data.n_affiliates, data.n_products)

    return np.isin(keys(lists), keys(bought))


def _kind_lists(model, data: InteractionData, n: int) -> pd.DataFrame:
    started = time.perf_counter()
    with SESSION_LOCK:
        lists = kind_lists(model, data, n)
    print(
        f"[recommenders] {model.name} {model.version_}: {len(lists)} list rows "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return lists


def fit_calibrators(
    registry: pd.DataFrame,
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    cut_date: dt.date,
    end: dt.date,
    horizon_days: int,
    n: int,
) -> pd.DataFrame:
    """One calibrator per (model, kind) from the stored models fitted up to ``cut_date``
    (selection_end): their top-``n`` lists per kind and whether each product was bought at that
    affiliate in (cut_date, end]. Rows: model_name, recommendation_kind, parameter, value."""
    data, bought = affiliate_split(cut_date, end, lines, customers, products)
    activity = recent_activity(data, horizon_days)
    rows = []
    for model in load_models(registry, data):
        lists = _kind_lists(model, data, n)
        features, outcomes = calibration_features(lists, activity), _bought(lists, bought, data)
        for kind in KINDS:
            at = (lists["recommendation_kind"] == kind).to_numpy()
            if at.any():
                calibrator = PurchaseCalibrator.fit(features[at], outcomes[at])
                rows += [(model.name, kind, name, value) for name, value in calibrator.to_rows()]
                rows.append((model.name, kind, "horizon_days", float(horizon_days)))
    return pd.DataFrame(rows, columns=["model_name", "recommendation_kind", "parameter", "value"])


def _calibrated(lists: pd.DataFrame, model_name: str, calibrators: dict, activity) -> pd.DataFrame:
    """The rows of the kinds with a calibrator, with purchase_probability."""
    features = calibration_features(lists, activity)
    probability = np.full(len(lists), np.nan)
    kinds = lists["recommendation_kind"].to_numpy()
    for kind in KINDS:
        at = kinds == kind
        if at.any() and (model_name, kind) in calibrators:
            probability[at] = calibrators[(model_name, kind)].predict(features[at])
    out = lists.assign(purchase_probability=probability)
    return out[out["purchase_probability"].notna()].reset_index(drop=True)


def reliability(
    registry: pd.DataFrame,
    calibrators: pd.DataFrame,
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    cut_date: dt.date,
    end: dt.date,
    horizon_days: int,
    n: int,
) -> pd.DataFrame:
    """Reliability tables of the stored models fitted up to ``cut_date`` (calibration_end) on
    their top-``n`` lists per kind, against what was bought at that affiliate in (cut_date,
    end]: the calibrated probability (probability_source 'calibrated') and, for reference, the
    raw score min–max scaled ('uncalibrated_score'). Rows: model_name, recommendation_kind,
    probability_source, bin, bin_lower, bin_upper, n, mean_probability, observed_rate."""
    data, bought = affiliate_split(cut_date, end, lines, customers, products)
    activity = recent_activity(data, horizon_days)
    by_key = _calibrators_by_key(calibrators)
    tables = []
    for model in load_models(registry, data):
        lists = _calibrated(_kind_lists(model, data, n), model.name, by_key, activity)
        outcomes = _bought(lists, bought, data)
        for kind, at in lists.groupby("recommendation_kind", sort=False).indices.items():
            for source, probability in (
                ("calibrated", lists["purchase_probability"].to_numpy()[at]),
                ("uncalibrated_score", min_max_scaled(lists["score"].to_numpy()[at])),
            ):
                table = reliability_table(probability, outcomes[at])
                tables.append(table.assign(model_name=model.name, recommendation_kind=kind, probability_source=source))
    columns = ["model_name", "recommendation_kind", "probability_source", "bin", "bin_lower", "bin_upper", "n"]
    columns += ["mean_probability", "observed_rate"]
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)


def ece_rows(reliability_tables: pd.DataFrame) -> pd.DataFrame:
    """model_metrics rows of the reliability tables: metric 'ece' (calibrated) and
    'ece_uncalibrated' (raw score min–max scaled), split = kind, n_customers = listed rows."""
    rows = []
    metric = {"calibrated": "ece", "uncalibrated_score": "ece_uncalibrated"}
    for (model_name, kind, source), table in reliability_tables.groupby(
        ["model_name", "recommendation_kind", "probability_source"], sort=False
    ):
        rows.append((model_name, metric[source], None, kind, expected_calibration_error(table), int(table["n"].sum())))
    out = pd.DataFrame(rows, columns=["model_name", "metric", "k", "split", "value", "n_customers"])
    out["k"] = out["k"].astype("Int64")
    return out


def champion_rows(metrics: pd.DataFrame, champions: pd.DataFrame) -> pd.DataFrame:
    """How each kind's champion (chosen on the selection split) did on the reported split: its
    rows with split = the kind, as model_name 'champion'."""
    chosen = set(zip(champions["recommendation_kind"], champions["model_name"], strict=True))
    keep = [(split, model) in chosen for split, model in zip(metrics["split"], metrics["model_name"], strict=True)]
    return metrics[keep].assign(model_name="champion").reset_index(drop=True)


def metrics_table(
    per_customer: pd.DataFrame,
    kinds: pd.DataFrame,
    selection: pd.DataFrame,
    champions: pd.DataFrame,
    reliability: pd.DataFrame,
) -> pd.DataFrame:
    """int_recommender_metrics: the per-customer and kind splits of the reported split, the ECE
    rows, the champions' reported rows and the inner split's selection rows."""
    reported = pd.concat([kinds, ece_rows(reliability)], ignore_index=True)
    frames = [per_customer, reported, champion_rows(reported, champions), selection]
    out = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
    out["k"] = out["k"].astype("Int64")
    return out


def _with_ids(lists: pd.DataFrame, data: InteractionData) -> pd.DataFrame:
    """Index columns replaced by the ids (customer_id, affiliate_code, product_code)."""
    ids = pd.DataFrame(
        {
            "customer_id": data.customer_ids[lists["customer_idx"].to_numpy()],
            "affiliate_code": data.affiliate_codes[lists["affiliate_idx"].to_numpy().astype(np.int64)],
            "recommendation_kind": lists["recommendation_kind"].to_numpy(),
            "rank": lists["rank"].to_numpy(),
            "product_code": data.product_codes[lists["product_idx"].to_numpy()],
        }
    )
    rest = lists.drop(columns=["customer_idx", "affiliate_idx", "recommendation_kind", "rank", "product_idx"])
    return pd.concat([ids, rest.reset_index(drop=True)], axis=1)


def champion_lists(
    registry: pd.DataFrame,
    champions: pd.DataFrame,
    calibrators: pd.DataFrame,
    data: InteractionData,
    horizon_days: int,
    n: int,
) -> pd.DataFrame:
    """Each kind's top-``n`` from its champion among the stored models of ``registry``, with the
    calibrated purchase_probability. Columns: customer_id, affiliate_code, recommendation_kind,
    rank, product_code, purchase_probability, model_name."""
    activity, by_key, frames = recent_activity(data, horizon_days), _calibrators_by_key(calibrators), []
    for model in load_models(registry[registry["model_name"].isin(champions["model_name"])], data):
        kinds = champions.loc[champions["model_name"] == model.name, "recommendation_kind"]
        lists = _kind_lists(model, data, n)
        lists = _calibrated(lists[lists["recommendation_kind"].isin(kinds)], model.name, by_key, activity)
        frames.append(_with_ids(lists, data).drop(columns="score").assign(model_name=model.name))
    columns = ["customer_id", "affiliate_code", "recommendation_kind", "rank", "product_code"]
    columns += ["purchase_probability", "model_name"]
    return _sorted_lists(pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns))


def recommend(
    registry: pd.DataFrame,
    data: InteractionData,
    n: int,
    calibrators: pd.DataFrame | None = None,
    champions: pd.DataFrame | None = None,
    horizon_days: int | None = None,
) -> pd.DataFrame:
    """Top-``n`` per customer × affiliate × kind from each stored model, with the calibrated
    purchase_probability (kinds without a calibrator for the model are left out; no
    ``calibrators``: every kind, probability NaN) and is_champion (the model is the kind's
    champion). Columns: customer_id, affiliate_code, recommendation_kind, rank, product_code,
    score, purchase_probability, is_champion, model_name, model_version."""
    activity = recent_activity(data, horizon_days) if calibrators is not None else None
    by_key = _calibrators_by_key(calibrators) if calibrators is not None else {}
    chosen = set() if champions is None else set(zip(champions["recommendation_kind"], champions["model_name"]))
    frames = []
    for model in load_models(registry, data):
        lists = _kind_lists(model, data, n)
        if calibrators is None:
            lists = lists.assign(purchase_probability=np.nan)
        else:
            lists = _calibrated(lists, model.name, by_key, activity)
        recs = _with_ids(lists, data)
        recs["is_champion"] = [(kind, model.name) in chosen for kind in recs["recommendation_kind"]]
        frames.append(recs.assign(model_name=model.name, model_version=model.version_))
    return _sorted_lists(pd.concat(frames, ignore_index=True))


def _sorted_lists(frame: pd.DataFrame) -> pd.DataFrame:
    order = ["customer_id", "affiliate_code", "recommendation_kind", "model_name", "rank"]
    return frame.sort_values(order, kind="mergesort").reset_index(drop=True)


def stamp_mission(registry: pd.DataFrame, data: InteractionData, model_name: str = "preference_nn") -> pd.DataFrame:
    """Seed 000's stamp mission from the stored ``model_name`` (see recommenders.stamp_mission)."""
    (model,) = load_models(registry[registry["model_name"] == model_name], data)
    return stamp_mission_module.stamp_mission(model, data)
