"""Trips -> receipts: product lines (PDDE), service rows (COP_U), stores, L.Pay payments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .catalog import Catalog
from .customers import Customers, Lifetimes, Trips

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix_uniform(*keys: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic uniform [0,1) from integer keys (vectorised splitmix64)."""
    x = np.full(np.broadcast(*keys).shape, np.uint64(salt & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    for k in keys:
        x = x ^ np.asarray(k).astype(np.uint64)
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def need_phase(alpha_i, k_j, beta_j, cyc):
    """Planted need phase of consumable j for customer i: cycle_j * frac(alpha_i * k_j + beta_j)
    (alpha_i ~ U(0,1) per customer, k_j integer in [1000, 100000), beta_j ~ U(0,1) per product)."""
    x = alpha_i * k_j + beta_j
    return (x - np.floor(x)) * cyc


def need_multiplier(cat: Catalog, alpha_i, prod_idx, day) -> np.ndarray:
    """1 inside the customer's need window of a consumable, NEED_OFF_KEEP outside it;
    1 for non-consumables."""
    cyc = cat.cycle[prod_idx]
    cons = ~np.isnan(cyc)
    cyc = np.where(cons, cyc, 1.0)
    phase = need_phase(alpha_i, cat.phase_k[prod_idx], cat.phase_b[prod_idx], cyc)
    w = np.maximum(P.NEED_WINDOW_MIN, P.NEED_WINDOW_FRAC * cyc)
    inside = np.mod(day - phase, cyc) < w
    return np.where(~cons | inside, 1.0, P.NEED_OFF_KEEP)


def choice_logits(cat: Catalog, taste_rows: np.ndarray, prod_idx: np.ndarray, aff: int) -> np.ndarray:
    """log-weights TASTE_SCALE * u_i . v_j + b_j + theme(a, major(j)) over products prod_idx
    of retail affiliate aff (before the need multiplier and the softmax)."""
    return P.TASTE_SCALE * (taste_rows @ cat.taste[prod_idx].T) + cat.base_logit[prod_idx] + cat.theme[prod_idx, aff]


@dataclass
class Receipts:
    cust: np.ndarray
    aff: np.ndarray
    online: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    store: np.ndarray  # index into catalog stores, -1 online
    counter: np.ndarray  # global receipt number (rct_no digits)
    amount: np.ndarray  # receipt total KRW (int)
    lpay: np.ndarray  # bool paid with L.Pay
    vst_day: np.ndarray  # service visit day (== day for retail)


@dataclass
class Lines:
    receipt: np.ndarray  # index into Receipts (retail only)
    prod: np.ndarray
    buy_ct: np.ndarray
    buy_am: np.ndarray


def assign_stores(cat: Catalog, c: Customers, trips: Trips, rng, salt) -> np.ndarray:
    n_aff, n_zone = len(P.AFFILIATES), len(P.ZONES)
    key = cat.store_aff * n_zone + cat.store_zone
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=n_aff * n_zone)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    m = len(trips.cust)
    zw = np.array(P.ZONE_WEIGHTS) / np.sum(P.ZONE_WEIGHTS)
    zone = np.where(rng.random(m) < P.HOME_ZONE_PROB, c.zone[trips.cust], rng.choice(n_zone, m, p=zw))
    k = trips.aff * n_zone + zone
    cnt = counts[k]
    fav = (splitmix_uniform(trips.cust, trips.aff, zone, salt=salt + 7) * np.maximum(cnt, 1)).astype(np.int64)
    rnd = (rng.random(m) * np.maximum(cnt, 1)).astype(np.int64)
    pos = np.where(rng.random(m) < P.FAV_STORE_PROB, fav, rnd)
    store = np.where(cnt > 0, order[np.minimum(starts[k] + pos, len(order) - 1)], -1)
    return np.where(trips.online, -1, store)


def draw_lines(cat: Catalog, c: Customers, trips: Trips, rng, salt, batch=2048) -> Lines:
    retail = np.flatnonzero(trips.aff < P.N_RETAIL)
    mean = np.array([P.RETAIL_BASKET[a] for a in P.RETAIL])
    k = 1 + rng.poisson(mean[trips.aff[retail]] - 1.0)
    d_trip = np.repeat(retail, k)
    d_cust = trips.cust[d_trip]
    d_aff = trips.aff[d_trip]
    d_prod = np.empty(len(d_trip), dtype=np.int64)
    u = rng.random(len(d_trip))
    # sort draws by (affiliate, customer) so each batch of customers is contiguous
    order = np.lexsort((d_cust, d_aff))
    for a in range(P.N_RETAIL):  # loop over affiliates and customer batches only
        J = np.flatnonzero(cat.affiliate_mask[:, a])
        lo_a, hi_a = np.searchsorted(d_aff[order], [a, a + 1])
        oa = order[lo_a:hi_a]
        ca = d_cust[oa]
        custs = np.unique(ca)
        for b0 in range(0, len(custs), batch):
            cb = custs[b0 : b0 + batch]
            lo, hi = np.searchsorted(ca, [cb[0], cb[-1] + 1])
            idx = oa[lo:hi]
            row = np.searchsorted(cb, d_cust[idx])
            lg = choice_logits(cat, c.taste[cb], J, a)
            lg -= lg.max(axis=1, keepdims=True)
            cdf = np.cumsum(np.exp(lg), axis=1)
            cdf /= cdf[:, -1:]
            cdf += np.arange(len(cb))[:, None]
            pos = np.searchsorted(cdf.ravel(), u[idx] + row, side="right") - row * len(J)
            d_prod[idx] = J[np.minimum(pos, len(J) - 1)]
    # repurchase cycle: thin consumable draws outside the customer's need window
    keep_p = need_multiplier(cat, c.phase_alpha[d_cust], d_prod, trips.day[d_trip])
    keep = rng.random(len(d_trip)) < keep_p
    # a receipt keeps at least its first draw
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    kept_n = np.add.reduceat(keep.astype(np.int64), first) if len(first) else np.zeros(0, np.int64)
    keep[first[kept_n == 0]] = True
    d_trip, d_prod = d_trip[keep], d_prod[keep]
    # merge repeated draws of a product in a receipt into units
    key = d_trip * P.N_PRODUCTS + d_prod
    ukey, cnt = np.unique(key, return_counts=True)
    l_trip, l_prod = ukey // P.N_PRODUCTS, ukey % P.N_PRODUCTS
    extra = np.array([P.EXTRA_UNITS[a] for a in P.RETAIL])
    buy_ct = cnt + rng.poisson(extra[trips.aff[l_trip]])
    am = cat.price[l_prod] * c.spend[trips.cust[l_trip]] ** 0.5 * buy_ct * np.exp(rng.normal(0, 0.05, len(l_trip)))
    buy_am = np.maximum(10, np.round(am / 10.0) * 10).astype(np.int64)
    return Lines(l_trip, l_prod, buy_ct.astype(np.int64), buy_am)


def build_receipts(cat, c: Customers, trips: Trips, life: Lifetimes, rng, salt):
    store = assign_stores(cat, c, trips, rng, salt)
    lines = draw_lines(cat, c, trips, rng, salt)
    m = len(trips.cust)
    amount = np.bincount(lines.receipt, weights=lines.buy_am, minlength=m).astype(np.int64)
    svc = trips.aff >= P.N_RETAIL
    med = np.array([0.0] * P.N_RETAIL + [P.SERVICE_PRICE[a][0] for a in P.SERVICE])
    sig = np.array([0.0] * P.N_RETAIL + [P.SERVICE_PRICE[a][1] for a in P.SERVICE])
    s_am = med[trips.aff] * c.spend[trips.cust] ** 0.5 * np.exp(rng.normal(0, 1, m) * sig[trips.aff])
    amount = np.where(svc, np.maximum(100, np.round(s_am / 100) * 100).astype(np.int64), amount)
    adv = rng.geometric(1.0 / P.SERVICE_ADVANCE_DAYS, m) - 1
    vst = np.where(svc & trips.online, np.minimum(trips.day + adv, P.N_DAYS - 1), trips.day)
    # L.Pay per receipt
    dec_a04 = (trips.aff == 3) & (trips.day >= 334)
    use = c.lpay_use[trips.cust]
    use = np.where(dec_a04, np.minimum(1.0, use * P.LPAY_A04_DEC_BOOST), use)
    use = np.where(dec_a04 & c.lpay_promo[trips.cust], P.LPAY_PROMO_USE, use)
    lpay = rng.random(m) < use

    # L.Pay outside the affiliates (L00 offline / L01 online) for adopters while active
    end = np.where(life.dropout_day >= 0, life.dropout_day, P.N_DAYS - 1)
    span = np.where(life.n_trips > 0, end - life.first_day + 1, 0)
    n_out = np.where(c.lpay_adopter, rng.poisson(P.LPAY_OUTSIDE_RATE * span), 0)
    o_cust = np.repeat(np.arange(c.n), n_out)
    o_day = life.first_day[o_cust] + (rng.random(len(o_cust)) * span[o_cust]).astype(np.int64)
    o_online = rng.random(len(o_cust)) < P.LPAY_OUTSIDE_ONLINE
    prof = np.array([P.HOUR_PROFILES["A02"], P.HOUR_PROFILES["online"]], dtype=float)
    cdf = np.cumsum(prof / prof.sum(axis=1, keepdims=True), axis=1)
    o_hour = np.minimum(23, (rng.random(len(o_cust))[:, None] >= cdf[o_online.astype(int)]).sum(axis=1))
    o_am = np.maximum(100, np.round(20000 * np.exp(rng.normal(0, 0.9, len(o_cust))) / 10) * 10).astype(np.int64)

    # one global receipt counter in time order over affiliate receipts and outside payments
    all_day = np.concatenate([trips.day, o_day])
    all_hour = np.concatenate([trips.hour, o_hour])
    all_cust = np.concatenate([trips.cust, o_cust])
    order = np.lexsort((np.arange(len(all_day)), all_cust, all_hour, all_day))
    counter = np.empty(len(all_day), dtype=np.int64)
    counter[order] = np.arange(1, len(all_day) + 1)
    rec = Receipts(trips.cust, trips.aff, trips.online, trips.day, trips.hour, store, counter[:m], amount, lpay, vst)
    outside = dict(cust=o_cust, day=o_day, hour=o_hour, online=o_online, amount=o_am, counter=counter[m:])
    return rec, lines, outside
