"""Oracle: true purchase propensities from the planted parameters (never from the raw files).

For customer i, product j and window (cutoff, horizon_end] the expected number of draws of
j (the units a basket picks, before merging into lines) is

    E_ij = sum_a mix_ia * m_a * q_ija * [ lam_i * sum_{d in alive days} need_ij(d)
                                          + 1{first trip on first_active_date in window} * need_ij(first) ]

with q_ija = softmax_{j' in assortment(a)} (TASTE_SCALE u_i.v_j' + b_j' + theme_a(j')), m_a the mean
draws per receipt at retail affiliate a and need_ij(d) the planted need-window multiplier
(1 inside the consumable's need window, NEED_OFF_KEEP outside; 1 for non-consumables).
Alive days run from max(cutoff+1, first_active_date) to min(horizon_end, dropout_date).
oracle_scores returns 1 - exp(-E_ij): a Poisson approximation of P(buy j at least once),
exactly monotone in E_ij. See docs/generator.md for what is approximated.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from . import params as P
from .purchases import need_phase


def _day(d: dt.date) -> int:
    return (d - P.YEAR_START).days


def _load(truth_dir):
    truth_dir = Path(truth_dir)
    cust = pq.read_table(truth_dir / "customers.parquet").to_pandas()
    prod = pq.read_table(truth_dir / "products.parquet").to_pandas()
    man = json.loads((truth_dir / "manifest.json").read_text(encoding="utf-8"))
    return cust, prod, man


def _days_col(series) -> np.ndarray:
    out = np.full(len(series), -1, dtype=np.int64)
    ok = series.notna().to_numpy()
    base = np.datetime64(P.YEAR_START.isoformat(), "D")
    out[ok] = (np.asarray(series[ok].astype("datetime64[s]")).astype("datetime64[D]") - base).astype(np.int64)
    return out


def _index(all_ids: np.ndarray, wanted: Sequence[str], what: str) -> np.ndarray:
    pos = {v: k for k, v in enumerate(all_ids.tolist())}
    try:
        return np.array([pos[w] for w in wanted], dtype=np.int64)
    except KeyError as e:
        raise KeyError(f"unknown {what}: {e.args[0]}") from None


def oracle_alive(truth_dir, customer_ids: Sequence[str], at: dt.date) -> np.ndarray:
    """True where the customer is active at the end of day `at`: already started
    (first_active_date <= at) and not dropped out (dropout_date null or > at)."""
    cust, _, _ = _load(truth_dir)
    idx = _index(cust["customer_id"].to_numpy(), customer_ids, "customer_id")
    first = _days_col(cust["first_active_date"])[idx]
    drop = _days_col(cust["dropout_date"])[idx]
    a = _day(at)
    return (first >= 0) & (first <= a) & ((drop < 0) | (drop > a))


def _count_in_window(
    lo: np.ndarray, length: np.ndarray, phase: np.ndarray, cyc: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """#integers d in [lo, lo+length) with (d - phase) mod cyc < w (cyc integer-valued)."""
    ph = np.mod(phase - lo, cyc)  # window start relative to lo, in [0, cyc)
    full = np.floor(length / cyc)
    r = length - full * cyc  # leftover days [0, r) after whole cycles
    per = np.ceil(ph + w) - np.ceil(ph)  # integers per cycle inside the window

    def cnt(a, b):  # integers in [a, b) intersected with [0, r)
        return np.maximum(0.0, np.ceil(np.minimum(b, r)) - np.ceil(np.maximum(a, 0.0)))

    return full * per + cnt(ph, ph + w) + cnt(ph - cyc, ph + w - cyc)


def oracle_scores(
    truth_dir,
    customer_ids: Sequence[str],
    product_codes: Sequence[str],
    cutoff: dt.date,
    horizon_end: dt.date,
    batch: int = 1024,
) -> np.ndarray:
    """float32 [n_customers, n_products]: P(customer buys product at any affiliate in
    (cutoff, horizon_end]) (Poisson approximation, exactly monotone in the expected count)."""
    cust, prod, man = _load(truth_dir)
    prm = man["parameters"]
    ci = _index(cust["customer_id"].to_numpy(), customer_ids, "customer_id")
    pj = _index(prod["product_code"].to_numpy(), product_codes, "product_code")
    d = int(prm["TASTE_DIM"])
    U = cust[[f"taste_{k}" for k in range(d)]].to_numpy(np.float64)
    V = prod[[f"taste_{k}" for k in range(d)]].to_numpy(np.float64)
    b = prod["base_logit"].to_numpy(np.float64)
    theme = prod[[f"theme_{a}" for a in prm["RETAIL"]]].to_numpy(np.float64)
    aff_mask = np.array([[a in set(lst) for a in prm["RETAIL"]] for lst in prod["affiliates"]])
    mix = cust[[f"mix_{a}" for a in prm["RETAIL"]]].to_numpy(np.float64)
    m_a = np.array([prm["RETAIL_BASKET"][a] for a in prm["RETAIL"]])
    lam = cust["purchase_rate_per_day"].to_numpy(np.float64)
    first = _days_col(cust["first_active_date"])
    drop = _days_col(cust["dropout_date"])
    cyc_all = prod["repurchase_cycle_days"].to_numpy(np.float64)
    cons = ~np.isnan(cyc_all[pj])
    cyc = np.where(cons, cyc_all[pj], 1.0)
    w = np.maximum(prm["NEED_WINDOW_MIN"], prm["NEED_WINDOW_FRAC"] * cyc)
    off = float(prm["NEED_OFF_KEEP"])
    tau = float(prm["TASTE_SCALE"])
    c0, h = _day(cutoff), _day(horizon_end)
    out = np.zeros((len(ci), len(pj)), dtype=np.float32)
    # q_ija = e_ij * wa_ja / Z_ia with e_ij = exp(tau u_i.v_j + b_j - max), wa_ja = exp(theme) * [j in a]
    Wa = (np.exp(theme) * aff_mask).astype(np.float32)  # [P, A]
    Vt = (tau * V.T).astype(np.float32)
    b32 = b.astype(np.float32)
    ccols = np.flatnonzero(cons)  # consumable columns of the output
    cyc_c, w_c = cyc[ccols].astype(np.float32), w[ccols].astype(np.float32)
    alpha = cust["need_phase_alpha"].to_numpy(np.float64)
    pk_c = prod["need_phase_k"].to_numpy(np.float64)[pj][ccols]
    pb_c = prod["need_phase_b"].to_numpy(np.float64)[pj][ccols]
    for s in range(0, len(ci), batch):
        ib = ci[s : s + batch]
        L0 = U[ib].astype(np.float32) @ Vt + b32
        L0 -= L0.max(axis=1, keepdims=True)
        e = np.exp(L0)  # [B, P]
        Z = e @ Wa  # [B, A]
        C = (mix[ib] * m_a[None, :]).astype(np.float32) / Z  # [B, A]
        Wt = (e * (C @ Wa.T))[:, pj]  # expected draws per trip
        f, dr = first[ib], drop[ib]
        started = f >= 0
        # Poisson part: days from day 0 (existing) / after the first trip (joiners)
        lo = np.maximum(c0 + 1, np.where(f > 0, f + 1, 0))
        hi = np.where(dr >= 0, np.minimum(h, dr), h) + 1  # exclusive
        hi = np.where(started, np.maximum(hi, lo), lo)
        nd = (hi - lo).astype(np.float32)
        need_days = np.broadcast_to(nd[:, None], Wt.shape).copy()
        phase = None
        if len(ccols):
            phase = need_phase(
                alpha[ib][:, None], pk_c[None, :], pb_c[None, :], cyc_c[None, :].astype(np.float64)
            ).astype(np.float32)
            n_in = _count_in_window(lo[:, None].astype(np.float32), nd[:, None], phase, cyc_c[None, :], w_c[None, :])
            need_days[:, ccols] = off * nd[:, None] + (1 - off) * n_in
        E = lam[ib].astype(np.float32)[:, None] * Wt * need_days
        # the deterministic first trip of customers who join inside the window
        ft = started & (f > 0) & (f > c0) & (f <= h)
        if ft.any():
            nf = np.ones((int(ft.sum()), len(pj)), dtype=np.float32)
            if len(ccols):
                inside = np.mod(f[ft][:, None] - phase[ft], cyc_c[None, :]) < w_c[None, :]
                nf[:, ccols] = np.where(inside, 1.0, off)
            E[ft] += Wt[ft] * nf
        out[s : s + batch] = -np.expm1(-E)
    return out
