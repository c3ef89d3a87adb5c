"""Customers: latent segment, demographics, BG/NBD-like parameters, affiliate mix,
L.Pay adoption, taste vector; and the trip process (dates, affiliates, channels, hours)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P


@dataclass
class Customers:
    n: int
    cust_id: np.ndarray  # str 'M' + 9 digits (sorted)
    segment: np.ndarray  # int
    gender: np.ndarray  # 0 male 1 female
    age: np.ndarray  # 0..5
    zone: np.ndarray  # 0..16
    lam: np.ndarray  # trips per day while alive
    p_drop: np.ndarray  # dropout probability after each trip
    spend: np.ndarray  # spend level multiplier
    mix: np.ndarray  # [n, 12] affiliate mix
    online: np.ndarray  # online propensity
    lpay_adopter: np.ndarray  # bool
    lpay_use: np.ndarray  # per-receipt L.Pay probability (0 for non adopters)
    lpay_promo: np.ndarray  # bool: tries L.Pay at A04 in December only
    taste: np.ndarray  # u_i [n, d]
    never: np.ndarray  # bool: registered, never purchased
    is_new: np.ndarray  # bool: joined during 2021
    phase_alpha: np.ndarray  # need-phase seed U(0,1) (see purchases.need_phase)


def build_customers(n: int, rng: np.random.Generator) -> Customers:
    seg = P.SEGMENTS
    k = len(seg)
    share = np.array([s["share"] for s in seg])
    segment = rng.choice(k, n, p=share / share.sum())
    # demographics tilted by segment
    female_p = np.array([s["female"] for s in seg])[segment]
    gender = (rng.random(n) < female_p).astype(np.int64)
    age_p = np.array([s["age_tilt"] for s in seg]) * np.array(P.BASE_AGE)
    age_p /= age_p.sum(axis=1, keepdims=True)
    age = _choice_rows(rng, age_p[segment])
    zw = np.array(P.ZONE_WEIGHTS) / np.sum(P.ZONE_WEIGHTS)
    zone = rng.choice(len(P.ZONES), n, p=zw)

    lam_mean = np.array([s["lam_mean"] for s in seg])[segment] * P.LAM_SCALE
    lam_shape = np.array([s["lam_shape"] for s in seg])[segment]
    lam = np.maximum(P.LAM_MIN, rng.gamma(lam_shape, lam_mean / lam_shape))
    p_drop = rng.beta(np.array([s["p_a"] for s in seg])[segment], np.array([s["p_b"] for s in seg])[segment])
    spend = np.array([s["spend_median"] for s in seg])[segment] * np.exp(rng.normal(0, P.SPEND_SIGMA, n))
    mix_base = np.array([s["mix"] for s in seg], dtype=float) + 1e-3
    mix_base /= mix_base.sum(axis=1, keepdims=True)
    mix = rng.gamma(P.MIX_CONCENTRATION * mix_base[segment])
    mix /= mix.sum(axis=1, keepdims=True)
    om = np.array([s["online_mean"] for s in seg])[segment]
    online = rng.beta(4 * om / (1 - om) + 0.2, 4.0)
    # L.Pay adoption: segment rate, younger customers a bit more
    age_f = np.array([1.25, 1.15, 1.0, 0.9, 0.75, 0.6])[age]
    lpay_adopter = rng.random(n) < np.clip(np.array([s["lpay_rate"] for s in seg])[segment] * age_f, 0, 0.97)
    um = np.array([s["lpay_use_mean"] for s in seg])[segment]
    lpay_use = np.where(lpay_adopter, rng.beta(6 * um, 6 * (1 - um)), 0.0)
    lpay_promo = ~lpay_adopter & (rng.random(n) < P.LPAY_PROMO_RATE)

    # taste: segment + age band + sex vectors + individual noise (structure draws first)
    d = P.TASTE_DIM
    seg_vec = rng.normal(0, 0.8, (k, d))
    age_vec = np.cumsum(rng.normal(0, 0.6, (len(P.AGE_BANDS), d)), axis=0)
    age_vec -= age_vec.mean(axis=0)
    sex_vec = rng.normal(0, 0.8, (2, d))
    taste = seg_vec[segment] + age_vec[age] + sex_vec[gender] + rng.normal(0, P.TASTE_NOISE, (n, d))

    never = np.zeros(n, dtype=bool)
    n_never = int(round(n * P.NO_PURCHASE_RATE))
    if n_never:
        never[rng.choice(n, n_never, replace=False)] = True
    is_new = rng.random(n) < P.NEW_CUSTOMER_SHARE

    ids = np.sort(rng.choice(10**9 - 10**8, n, replace=False) + 10**8)
    cust_id = np.char.add("M", ids.astype(str))
    return Customers(
        n,
        cust_id,
        segment,
        gender,
        age,
        zone,
        lam,
        p_drop,
        spend,
        mix,
        online,
        lpay_adopter,
        lpay_use,
        lpay_promo,
        taste,
        never,
        is_new,
        rng.random(n),
    )


def _choice_rows(rng, prob):
    """One categorical draw per row of prob (rows sum to 1)."""
    c = np.cumsum(prob, axis=1)
    u = rng.random(len(prob))[:, None] * c[:, -1:]
    return (u >= c).sum(axis=1)


@dataclass
class Trips:
    cust: np.ndarray  # customer index
    day: np.ndarray  # 0..364
    hour: np.ndarray
    aff: np.ndarray  # index into AFFILIATES
    online: np.ndarray  # bool


@dataclass
class Lifetimes:
    first_day: np.ndarray  # int day (-1 never)
    dropout_day: np.ndarray  # int day, -1 if alive at end / never
    n_trips: np.ndarray


def simulate_trips(c: Customers, rng: np.random.Generator) -> tuple[Trips, Lifetimes]:
    n, T = c.n, P.N_DAYS
    # start: existing customers alive on day 0; new ones make their first trip at s
    start = np.where(c.is_new, np.floor(T * rng.beta(1.0, 1.6, n)), 0.0)
    span = T - start
    # arrivals in the window: existing: Poisson(lam*T) conditioned >=1 (they shopped in
    # 2021); new: first trip at s plus Poisson(lam*(T-s)) later ones.
    pois = rng.poisson(c.lam * span)
    n_arr = np.where(c.is_new, 1 + pois, np.maximum(pois, 1))
    n_arr[c.never] = 0
    # trips until dropout: K ~ Geometric(p) (dropout after the K-th trip)
    K = rng.geometric(np.clip(c.p_drop, 1e-6, 1))
    n_trips = np.minimum(K, n_arr)
    dead = (K <= n_arr) & ~c.never

    # arrival times: uniform order statistics on [start, T); new customers' first = start
    tot = int(n_arr.sum())
    cust = np.repeat(np.arange(n), n_arr)
    t = start[cust] + rng.random(tot) * span[cust]
    first_of = np.concatenate([[0], np.cumsum(n_arr)[:-1]])
    is_first_new = c.is_new[cust] & (np.arange(tot) == first_of[cust])
    t[is_first_new] = start[cust[is_first_new]]
    order = np.lexsort((t, cust))
    cust, t = cust[order], t[order]
    rank = np.arange(tot) - first_of[cust]
    keep = rank < n_trips[cust]
    cust, t = cust[keep], t[keep]
    day = np.minimum(np.floor(t).astype(np.int64), T - 1)

    # weekday shaping: move each trip to a day within +-3 drawn by weekday weight
    # (a 7-day window holds each weekday once), staying within [start, T-1]
    off = np.arange(-3, 4)
    cand = day[:, None] + off[None, :]
    ww = np.array(P.WEEKDAY_WEIGHTS)[(cand + P.FIRST_WEEKDAY) % 7]
    ok = (cand >= start[cust][:, None]) & (cand <= T - 1)
    w = np.where(ok, ww, 0.0)
    day = cand[np.arange(len(day)), _choice_rows(rng, w / w.sum(axis=1, keepdims=True))]

    nt = np.bincount(cust, minlength=n)
    first_day = np.full(n, -1, dtype=np.int64)
    last_day = np.full(n, -1, dtype=np.int64)
    o = np.lexsort((day, cust))
    cust, day = cust[o], day[o]
    if len(cust):
        starts = np.concatenate([[0], np.cumsum(nt)[:-1]])
        has = nt > 0
        first_day[has] = day[starts[has]]
        last_day[has] = day[starts[has] + nt[has] - 1]
    first_day = np.where(c.is_new | (nt == 0), first_day, 0)  # existing: active from 2021-01-01
    dropout_day = np.where(dead, last_day, -1)

    # affiliate per trip from the customer's mix
    aff = _choice_rows(rng, c.mix[cust])
    on_f = np.array([1.0 if P.ONLINE_FACTOR[a] is None else P.ONLINE_FACTOR[a] for a in P.AFFILIATES])
    online = rng.random(len(cust)) < np.where(aff == 5, 1.0, on_f[aff] * c.online[cust])
    online &= ~np.isin(aff, [3])  # convenience store: offline only
    # hour by affiliate (online retail uses the online profile)
    prof = np.array([P.HOUR_PROFILES[a] for a in P.AFFILIATES] + [P.HOUR_PROFILES["online"]], dtype=float)
    prof /= prof.sum(axis=1, keepdims=True)
    row = np.where(online & (aff < P.N_RETAIL), len(P.AFFILIATES), aff)
    cdf = np.cumsum(prof, axis=1)
    hour = (rng.random(len(cust))[:, None] >= cdf[row]).sum(axis=1)
    hour = np.minimum(hour, 23)
    return (Trips(cust, day, hour, aff, online), Lifetimes(first_day, dropout_day, nt))
