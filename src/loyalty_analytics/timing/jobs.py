"""What the dbt Python models of python_models/timing/ call: fit → stored model → apply → evaluate
(docs/timing.md, "In the warehouse").

The input is one table of purchase days (int_timing_purchase_days): item_level ('product' or
'category'), customer_id, item_id, category (the product's major category; empty at the category
level), purchase_date. Every item level is fitted, applied and evaluated on its own.

Dates (int_run_parameters): the published model is fitted on history ≤ observation_end, the
evaluated one on history ≤ calibration_end; hyper-parameters are chosen on the inner split (fit ≤
selection_end, truth in (selection_end, calibration_end]), never on the reported split.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from loyalty_analytics import truth as planted
from loyalty_analytics.metrics import metric_row, metrics_frame
from loyalty_analytics.timing import evaluation
from loyalty_analytics.timing.baselines import GBMIntervalModel, MeanIntervalRule
from loyalty_analytics.timing.model import MODEL_NAME, PooledTimingModel
from loyalty_analytics.timing.outputs import DEFAULT_HORIZONS, PREDICTION_COLUMNS
from loyalty_analytics.timing.params import model_version

ITEM_LEVELS = ("product", "category")
INPUT_COLUMNS = ("item_level", "customer_id", "item_id", "category", "purchase_date")
FIT_CUTS = ("calibration_end", "observation_end")
# candidates chosen between on the inner split by the mean Brier score over the horizons
CANDIDATES = (
    {"use_p_alive": True, "lapse": False},
    {"use_p_alive": True, "lapse": True},
    {"use_p_alive": False, "lapse": True},
)
SELECTION_MAX_PAIRS = 300_000  # candidates are compared on the pairs of a customer sample this size
PARAMS_KEY = ["item_level", "fit_cut"]
OUTPUT_COLUMNS = [
    "customer_id",
    "item_level",
    "item_id",
    *(c for c in PREDICTION_COLUMNS if c not in ("customer_id", "item_id")),
    "model_name",
    "model_version",
]


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def level_days(purchase_days: pd.DataFrame, level: str) -> pd.DataFrame:
    """The purchase days of one item level (customer_id, item_id, purchase_date, category)."""
    missing = [c for c in INPUT_COLUMNS if c not in purchase_days.columns]
    if missing:
        raise ValueError(f"purchase days are missing column(s) {missing}; need {list(INPUT_COLUMNS)}")
    rows = purchase_days.loc[purchase_days["item_level"] == level]
    return rows[["customer_id", "item_id", "purchase_date", "category"]].reset_index(drop=True)


def window_days(settings: dict) -> int:
    """W = observation_end − calibration_end in days (at least 1)."""
    return max((_date(settings["observation_end"]) - _date(settings["calibration_end"])).days, 1)


def _model(candidate: dict, settings: dict, **more) -> PooledTimingModel:
    return PooledTimingModel(
        **candidate, window_days=window_days(settings), random_state=int(settings["random_seed"]), **more
    )


def _candidate_score(days: pd.DataFrame, candidate: dict, settings: dict) -> float:
    """Mean Brier score over the horizons on the inner split (NaN when it cannot be fitted)."""
    cut, end = _date(settings["selection_end"]), _date(settings["calibration_end"])
    model = _model(candidate, settings, max_fit_pairs=SELECTION_MAX_PAIRS)
    try:
        scored = evaluation.with_outcomes(model.fit(days, cut).predict(days, cut), days, cut, end)
    except ValueError:  # no pair bought twice by selection_end
        return float("nan")
    rows = evaluation.model_rows(MODEL_NAME, scored, cut, "inner", DEFAULT_HORIZONS)
    return float(np.mean([value for _, metric, _, _, value in rows if metric == "brier"]))


def choose_candidate(days: pd.DataFrame, settings: dict) -> tuple[dict, list[float]]:
    """The candidate with the lowest inner-split Brier (the first when none can be scored), and
    every candidate's score."""
    scores = [_candidate_score(days, candidate, settings) for candidate in CANDIDATES]
    finite = [i for i, s in enumerate(scores) if np.isfinite(s)]
    best = min(finite, key=lambda i: scores[i]) if finite else 0
    return CANDIDATES[best], scores


def _selection_rows(scores: list[float], chosen: dict) -> pd.DataFrame:
    rows = [
        ("selection", f"candidate_{i}", None, name, float(value))
        for i, candidate in enumerate(CANDIDATES)
        for name, value in (*candidate.items(), ("inner_brier_mean", scores[i]), ("chosen", candidate == chosen))
    ]
    return pd.DataFrame(rows, columns=["level", "key", "parent", "parameter", "value"])


def fit_params(purchase_days: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The stored models: per item level, the candidate chosen on the inner split fitted on history
    up to calibration_end and up to observation_end; plus the selection rows (fit_cut
    'selection'). A level without a pair bought on two days is left out."""
    parts = []
    for level in ITEM_LEVELS:
        days = level_days(purchase_days, level)
        if days.empty:
            continue
        chosen, scores = choose_candidate(days, settings)
        for fit_cut in FIT_CUTS:
            model = _model(chosen, settings)
            try:
                table = model.fit(days, _date(settings[fit_cut])).to_params()
            except ValueError:
                continue
            parts.append(table.assign(item_level=level, fit_cut=fit_cut))
        parts.append(_selection_rows(scores, chosen).assign(item_level=level, fit_cut="selection"))
    columns = [*PARAMS_KEY, "model_name", "level", "key", "parent", "parameter", "value"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in columns})
    return pd.concat(parts, ignore_index=True).assign(model_name=MODEL_NAME)[columns]


def apply_params(purchase_days: pd.DataFrame, params: pd.DataFrame, settings: dict, fit_cut: str) -> pd.DataFrame:
    """The stored models of ``fit_cut`` applied at that date (no refit): one row per customer ×
    item level × item bought on ≥ 2 days up to it (:data:`OUTPUT_COLUMNS`)."""
    parts = []
    for level in ITEM_LEVELS:
        stored = params.loc[(params["item_level"] == level) & (params["fit_cut"] == fit_cut)]
        if stored.empty:
            continue
        model = PooledTimingModel.from_params(stored)
        predictions = model.predict(level_days(purchase_days, level), _date(settings[fit_cut]))
        parts.append(predictions.assign(item_level=level, model_name=MODEL_NAME, model_version=model_version(stored)))
    if not parts:  # no stored model (no pair bought on two days): no rows; the mart casts the types
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]


def _planted_cycles(purchase_days: pd.DataFrame, truth_dir) -> pd.Series | None:
    """The generator's repurchase cycle per product when its truth belongs to this data."""
    if truth_dir is None or not planted.truth_matches(purchase_days["customer_id"].unique(), truth_dir):
        return None
    try:
        products = pd.read_parquet(planted.customers_file(truth_dir).with_name("products.parquet"))
    except (OSError, ValueError):
        return None
    if "repurchase_cycle_days" not in products.columns:
        return None
    return products.set_index(products["product_code"].astype(str))["repurchase_cycle_days"].astype(float)


def evaluate(
    purchase_days: pd.DataFrame,
    calibration_predictions: pd.DataFrame,
    params: pd.DataFrame,
    settings: dict,
    truth_dir=None,
) -> pd.DataFrame:
    """Metric rows (model_name, metric, k, split, value) on the reported split: the stored pooled
    model (its predictions at calibration_end) and the two baselines fitted on the same history,
    per item level (split = the level); on generated data also against the planted cycles (split
    'product_vs_planted_cycle'); the inner-split scores of the candidates (split '<level>_inner')."""
    cut, end = _date(settings["calibration_end"]), _date(settings["observation_end"])
    cycles = _planted_cycles(purchase_days, truth_dir)
    rows = []
    for level in ITEM_LEVELS:
        pooled = calibration_predictions.loc[calibration_predictions["item_level"] == level]
        if pooled.empty:
            continue
        days = level_days(purchase_days, level)
        models = {
            MODEL_NAME: pooled.reset_index(drop=True),
            MeanIntervalRule.name: MeanIntervalRule(DEFAULT_HORIZONS).predict(days, cut),
            GBMIntervalModel.name: _gbm_predictions(days, settings),
        }
        for name, predictions in models.items():
            if predictions is None:
                continue
            scored = evaluation.with_outcomes(predictions, days, cut, end)
            rows += evaluation.model_rows(name, scored, cut, level, DEFAULT_HORIZONS)
            if cycles is not None and level == "product":
                rows += evaluation.planted_cycle_rows(name, predictions, cycles, "product_vs_planted_cycle")
        rows += _selection_metric_rows(params, level)
    return metrics_frame(rows)


def _gbm_predictions(days: pd.DataFrame, settings: dict) -> pd.DataFrame | None:
    """The GBM baseline fitted up to calibration_end (residuals from selection_end); None when the
    history has too few intervals."""
    cut, inner = _date(settings["calibration_end"]), _date(settings["selection_end"])
    try:
        model = GBMIntervalModel(DEFAULT_HORIZONS, random_state=int(settings["random_seed"]))
        return model.fit(days, cut, inner).predict()
    except ValueError:
        return None


def _selection_metric_rows(params: pd.DataFrame, level: str) -> list[tuple]:
    """The candidates' inner-split mean Brier (metric inner_brier_mean_candidate_<i>) and the
    chosen candidate's index."""
    selection = params.loc[(params["item_level"] == level) & (params["fit_cut"] == "selection")]
    split = f"{level}_inner"
    rows = []
    for key, group in selection.groupby("key", sort=True):
        values = dict(zip(group["parameter"], group["value"]))
        rows.append(metric_row(MODEL_NAME, f"inner_brier_mean_{key}", values["inner_brier_mean"], split))
        if values["chosen"] == 1:
            rows.append(metric_row(MODEL_NAME, "chosen_candidate", int(str(key).rsplit("_", 1)[1]), split))
    return rows
