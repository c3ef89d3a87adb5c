"""The store of a fitted :class:`~loyalty_analytics.timing.model.PooledTimingModel`: one long table
``(level, key, parent, parameter, value)`` and back (rows in any order).

Levels: ``hyper`` (one row per hyper-parameter; one ``horizon_days`` row per horizon), ``shape``
(weibull_shape, frailty_shape, lapse_a, lapse_b), ``global`` (log_scale), ``category`` (key = the
category, log_scale_effect), ``item`` (key = the item id, parent = its category,
log_scale_effect), ``precision`` (category / item / customer), ``alive`` (the BG/NBD r, alpha, a,
b; no rows without P(alive)) and ``fit`` (n_pairs, n_customers, n_items, fit_seconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_analytics import __version__
from loyalty_analytics.model_store import fingerprint

PARAMS_COLUMNS = ["level", "key", "parent", "parameter", "value"]
NUMBER_HYPER = ("prior_strength", "window_days", "n_rounds", "max_fit_pairs", "chunk_rows", "random_state")
INTEGER_HYPER = ("window_days", "n_rounds", "max_fit_pairs", "chunk_rows", "random_state")
BOOLEAN_HYPER = ("customer_effect", "lapse", "use_p_alive")
FIT_FIGURES = ("n_pairs", "n_customers", "n_items", "fit_seconds")


def _rows(level: str, values: dict, key: str = "") -> list[tuple]:
    return [(level, key, None, name, float(v)) for name, v in values.items()]


def params_table(model) -> pd.DataFrame:
    """The long table of a fitted model."""
    hyper = {name: getattr(model, name) for name in (*NUMBER_HYPER, *BOOLEAN_HYPER)}
    rows = _rows("hyper", hyper) + [("hyper", str(h), None, "horizon_days", float(h)) for h in model.horizons]
    rows += _rows("shape", model.shape_)
    rows += _rows("global", {"log_scale": model.global_effect_})
    rows += [("category", str(c), None, "log_scale_effect", float(v)) for c, v in model.category_effects_.items()]
    rows += _rows("precision", model.precisions_)
    rows += _rows("alive", model.alive_)
    rows += _rows("fit", {name: getattr(model, f"{name}_") for name in FIT_FIGURES})
    items = pd.DataFrame(
        {
            "level": "item",
            "key": model.item_effects_.index.astype(str),
            "parent": model.item_categories_.reindex(model.item_effects_.index).to_numpy().astype(str),
            "parameter": "log_scale_effect",
            "value": model.item_effects_.to_numpy(dtype=float),
        }
    )
    table = pd.concat([pd.DataFrame(rows, columns=PARAMS_COLUMNS), items], ignore_index=True)
    return table.astype({"level": str, "key": str, "parent": object, "parameter": str, "value": float})


def _named(table: pd.DataFrame, level: str) -> dict:
    rows = table.loc[table["level"] == level]
    return {str(p): float(v) for p, v in zip(rows["parameter"], rows["value"])}


def _effects(table: pd.DataFrame, level: str) -> pd.DataFrame:
    return table.loc[table["level"] == level].sort_values("key", kind="stable")


def read_params_table(table: pd.DataFrame) -> tuple[dict, dict]:
    """(hyper-parameters, learned attributes) of the model a params table stores."""
    missing = [c for c in PARAMS_COLUMNS if c not in table.columns]
    if missing or not (table["level"] == "shape").any():
        raise ValueError("params table holds no repurchase-timing model (need its 'hyper' and 'shape' rows)")
    values = _named(table, "hyper")
    hyper = {name: int(round(values[name])) if name in INTEGER_HYPER else values[name] for name in NUMBER_HYPER}
    hyper.update({name: bool(values[name]) for name in BOOLEAN_HYPER})
    horizons = table.loc[(table["level"] == "hyper") & (table["parameter"] == "horizon_days"), "value"]
    hyper["horizons"] = tuple(int(h) for h in sorted(horizons))
    items, categories = _effects(table, "item"), _effects(table, "category")
    item_ids = items["key"].astype(str).to_numpy()
    fit = _named(table, "fit")
    learned = {
        "shape_": _named(table, "shape"),
        "global_effect_": _named(table, "global")["log_scale"],
        "category_effects_": pd.Series(
            categories["value"].to_numpy(dtype=float), index=categories["key"].astype(str).to_numpy()
        ),
        "item_effects_": pd.Series(items["value"].to_numpy(dtype=float), index=item_ids),
        "item_categories_": pd.Series(items["parent"].astype(str).to_numpy(), index=item_ids),
        "precisions_": _named(table, "precision"),
        "alive_": _named(table, "alive"),
        **{f"{name}_": fit[name] if name == "fit_seconds" else int(fit[name]) for name in FIT_FIGURES},
    }
    return hyper, learned


def model_version(table: pd.DataFrame) -> str:
    """``<package version>+<12 hex>`` of the stored parameters (not the fit time): the same fit
    gives the same version whatever order the rows come in."""
    fitted = table.loc[~((table["level"] == "fit") & (table["parameter"] == "fit_seconds"))]
    fitted = fitted.sort_values(["level", "key", "parameter"], kind="stable")
    values = np.round(fitted["value"].to_numpy(dtype=float), 10)
    return f"{__version__}+{fingerprint(fitted['level'].to_numpy(), fitted['key'].to_numpy(), values)}"
