"""Planted ground truth: customers.parquet, products.parquet, manifest.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import params as P


def _dates(day: np.ndarray) -> pa.Array:
    base = np.datetime64(P.YEAR_START.isoformat(), "D")
    vals = (base + day.astype("timedelta64[D]")).astype("datetime64[D]")
    return pa.array(vals, type=pa.date32(), mask=day < 0)


def write_truth(truth_dir: Path, cat, c, life, manifest: dict) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    cols = {
        "customer_id": pa.array(c.cust_id),
        "segment_id": pa.array(c.segment.astype(np.int32)),
        "segment_name": pa.array([P.SEGMENTS[s]["name"] for s in range(len(P.SEGMENTS))]).take(pa.array(c.segment)),
        "gender": pa.array(P.GENDERS).take(pa.array(c.gender)),
        "age_band": pa.array(P.AGE_BANDS).take(pa.array(c.age)),
        "zone": pa.array(P.ZONES).take(pa.array(c.zone)),
        "purchase_rate_per_day": pa.array(c.lam),
        "dropout_prob": pa.array(c.p_drop),
        "first_active_date": _dates(life.first_day),
        "dropout_date": _dates(life.dropout_day),
        "alive_at_end": pa.array((life.dropout_day < 0) & (life.n_trips > 0)),
        "joined_in_2021": pa.array(c.is_new & (life.n_trips > 0)),
        "never_purchased": pa.array(c.never),
        "spend_level": pa.array(c.spend),
        "lpay_adopter": pa.array(c.lpay_adopter),
        "lpay_use_prob": pa.array(c.lpay_use),
        "lpay_promo_trial": pa.array(c.lpay_promo),
        "online_propensity": pa.array(c.online),
    }
    for k, a in enumerate(P.AFFILIATES):
        cols[f"mix_{a}"] = pa.array(c.mix[:, k])
    cols["service_share"] = pa.array(c.mix[:, P.N_RETAIL :].sum(axis=1))
    for k in range(P.TASTE_DIM):
        cols[f"taste_{k}"] = pa.array(c.taste[:, k])
    cols["need_phase_alpha"] = pa.array(c.phase_alpha)
    cols["n_trips"] = pa.array(life.n_trips.astype(np.int64))
    pq.write_table(pa.table(cols), truth_dir / "customers.parquet")

    aff_lists = [[P.RETAIL[a] for a in np.flatnonzero(row)] for row in cat.affiliate_mask]
    pcols = {
        "product_code": pa.array(cat.product_code),
        "product_name": pa.array(cat.product_name),
        "category_major": pa.array(cat.majors).take(pa.array(cat.major)),
        "category_middle": pa.array(cat.middles).take(pa.array(cat.middle)),
        "affiliates": pa.array(aff_lists, type=pa.list_(pa.string())),
        "base_logit": pa.array(cat.base_logit),
    }
    for k in range(P.TASTE_DIM):
        pcols[f"taste_{k}"] = pa.array(cat.taste[:, k])
    for k, a in enumerate(P.RETAIL):
        pcols[f"theme_{a}"] = pa.array(cat.theme[:, k])
    pcols["repurchase_cycle_days"] = pa.array(cat.cycle, mask=np.isnan(cat.cycle))
    pcols["price"] = pa.array(cat.price)
    pcols["need_phase_k"] = pa.array(cat.phase_k)
    pcols["need_phase_b"] = pa.array(cat.phase_b)
    pq.write_table(pa.table(pcols), truth_dir / "products.parquet")
    (truth_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=_js), encoding="utf-8"
    )


def _js(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (dt.date,)):
        return o.isoformat()
    raise TypeError(type(o))
