"""Small synthetic interaction data set with planted structure, for recommender tests.

Generative model (static, so the planted scores are the exact truth):

* products: 8 major categories (2 middle categories each); latent vector v_j = category
  centre + noise (dim 5); popularity bias b_j ~ N(0, 1); each product is sold at a home
  affiliate (by category) and with prob. 0.35 at one more of the 6 affiliates A01..A06.
* customers: gender, age band; taste u_i = feature effect + N(0, 1) (dim 5); 3–6 "staple"
  products drawn from the customer's most liked products (habits); affiliate mix ~
  Dirichlet(0.6); visit rate ~ Gamma(0.9) so that many customers are sparse.
* utility u_ij = b_j + taste_scale·u_i·v_j + habit·[j staple of i]; a session at affiliate a
  draws 1 + Poisson(1.5) items (with replacement, then de-duplicated) from softmax of u_ij
  over the products sold at a.
* history: 2021-01-01 .. 2021-06-30 (cut_date 2021-06-30); after the cut: 2021-07-01 ..
  2021-08-29 (60 days). truth = distinct (customer, product) bought after the cut.
* true_scores[i, j] = P(i buys j at least once after the cut) = 1 − exp(−E[count_ij]) under
  the model (a per-customer monotone transform of the planted intensity).

``make_synthetic_data`` goes through ``build_interaction_data`` (so that path is exercised)
and also returns a simple preference score (0..5) per (affiliate, customer, product) of the
history: mean of buy_level = min(count, 5) and category_level = round(5·share of the
customer's lines in the product's major category) — an approximation of the SQL mart.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from loyalty_analytics.recommenders.data import InteractionData, build_interaction_data

AFFILIATES = np.array([f"A0{k}" for k in range(1, 7)], dtype=object)
HIST_START = pd.Timestamp("2021-01-01")
CUT_DATE = dt.date(2021, 6, 30)
HIST_DAYS = 181
AFTER_DAYS = 60
MEAN_SESSIONS = 25.0  # mean sessions per customer in the history (LPOINT: ~weekly shoppers)


def make_raw_synthetic(n_customers: int = 500, n_products: int = 200, seed: int = 0):
    """Raw frames in the warehouse shape: (lines, customers, products, true_scores)."""
    rng = np.random.default_rng(seed)
    dim, n_major, n_aff = 5, 8, len(AFFILIATES)

    # ---- products
    major = rng.integers(0, n_major, n_products)
    middle = major * 2 + rng.integers(0, 2, n_products)
    centres = rng.normal(0, 1.0, (n_major, dim))
    v = centres[major] + rng.normal(0, 0.5, (n_products, dim))
    bias = rng.normal(0, 1.0, n_products)
    home = major % n_aff
    assort = np.zeros((n_aff, n_products), dtype=bool)
    assort[home, np.arange(n_products)] = True
    extra = rng.random(n_products) < 0.35
    assort[rng.integers(0, n_aff, n_products)[extra], np.arange(n_products)[extra]] = True

    # ---- customers
    gender = rng.integers(0, 2, n_customers)
    age = rng.choice(np.arange(20, 80, 10), n_customers)
    g_eff = rng.normal(0, 0.6, (2, dim))
    a_eff = rng.normal(0, 0.6, (6, dim))
    u = g_eff[gender] + a_eff[(age - 20) // 10] + rng.normal(0, 1.0, (n_customers, dim))
    taste_scale = 0.9
    util = bias[None, :] + taste_scale * (u @ v.T) / np.sqrt(dim) * 1.5
    n_staple = rng.integers(3, 7, n_customers)
    staple = np.zeros((n_customers, n_products), dtype=bool)
    order = np.argsort(-util + rng.gumbel(0, 1.0, util.shape), axis=1)
    for i in range(n_customers):
        staple[i, order[i, : n_staple[i]]] = True
    util = util + 2.5 * staple
    mix = rng.dirichlet(np.full(n_aff, 0.6), n_customers)
    rate = rng.gamma(0.9, 1.0 / 0.9, n_customers) * (MEAN_SESSIONS / HIST_DAYS)  # sessions per day

    # P(item | customer, affiliate): softmax over products sold at the affiliate
    expu = np.exp(util - util.max(axis=1, keepdims=True))
    p_ia = np.zeros((n_customers, n_aff, n_products))
    for a in range(n_aff):
        e = expu * assort[a][None, :]
        p_ia[:, a, :] = e / e.sum(axis=1, keepdims=True)
    mean_items = 2.5
    intensity = np.einsum("ia,iaj->ij", mix, p_ia)
    true_scores = (1.0 - np.exp(-rate[:, None] * AFTER_DAYS * mean_items * intensity)).astype(np.float32)

    # ---- sessions / lines
    rows = []
    total_days = HIST_DAYS + AFTER_DAYS
    for i in range(n_customers):
        n_sess = rng.poisson(rate[i] * total_days)
        if n_sess == 0:
            continue
        days = np.sort(rng.integers(0, total_days, n_sess))
        affs = rng.choice(n_aff, n_sess, p=mix[i])
        for s in range(n_sess):
            k = 1 + rng.poisson(1.5)
            items = np.unique(rng.choice(n_products, k, p=p_ia[i, affs[s]]))
            ts = HIST_START + pd.Timedelta(days=int(days[s]), hours=int(rng.integers(9, 22)))
            for j in items:
                rows.append((i, j, affs[s], ts, f"S{i:05d}_{s:04d}", int(1 + rng.poisson(0.3))))
    arr = pd.DataFrame(rows, columns=["c", "p", "a", "purchased_at", "session_id", "quantity"])
    lines = pd.DataFrame(
        {
            "customer_id": np.array([f"C{i:05d}" for i in range(n_customers)], dtype=object)[arr["c"].to_numpy()],
            "product_code": np.array([f"P{j:04d}" for j in range(n_products)], dtype=object)[arr["p"].to_numpy()],
            "affiliate_code": AFFILIATES[arr["a"].to_numpy()],
            "purchased_at": pd.to_datetime(arr["purchased_at"]),
            "session_id": arr["session_id"],
            "quantity": arr["quantity"].astype(np.int32),
            "amount": arr["quantity"].to_numpy() * np.round(np.exp(bias[arr["p"].to_numpy()] + 8.0), -1),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n_customers)],
            "gender": np.where(gender == 0, "female", "male"),
            "age_band": [f"{a}대" for a in age],
            "region_code": [f"Z{r:02d}" for r in rng.integers(0, 10, n_customers)],
        }
    )
    products = pd.DataFrame(
        {
            "product_code": [f"P{j:04d}" for j in range(n_products)],
            "product_name": [f"product {j}" for j in range(n_products)],
            "category_major": [f"MAJ{m}" for m in major],
            "category_middle": [f"MID{m:02d}" for m in middle],
        }
    )
    return lines, customers, products, true_scores


def _simple_preference(lines: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    hist = lines.loc[lines["purchased_at"] < pd.Timestamp(CUT_DATE) + pd.Timedelta(days=1)]
    hist = hist.merge(products[["product_code", "category_major"]], on="product_code")
    keys = ["affiliate_code", "customer_id", "product_code", "category_major"]
    cnt = hist.groupby(keys).size().rename("n").reset_index()
    cat_share = (
        (hist.groupby(["customer_id", "category_major"]).size() / hist.groupby("customer_id").size())
        .rename("share")
        .reset_index()
    )
    cnt = cnt.merge(cat_share, on=["customer_id", "category_major"])
    buy_level = np.minimum(cnt["n"].to_numpy(), 5)
    cat_level = np.round(5 * cnt["share"].to_numpy())
    cnt["preference_score"] = (buy_level + cat_level) / 2.0
    return cnt[["affiliate_code", "customer_id", "product_code", "preference_score"]]


def make_synthetic_data(
    n_customers: int = 500, n_products: int = 200, seed: int = 0
) -> tuple[InteractionData, pd.DataFrame, np.ndarray]:
    """(train: InteractionData with history up to 2021-06-30, truth_after_cut: distinct
    (customer_idx, product_idx) bought after it, true_scores: float32 [n_customers,
    n_products] = planted P(bought after the cut)). Customer i is 'C{i:05d}' and product j
    'P{j:04d}', so indices coincide with the generator's."""
    lines, customers, products, true_scores = make_raw_synthetic(n_customers, n_products, seed)
    pref = _simple_preference(lines, products)
    train, truth = build_interaction_data(lines, customers, products, pref, CUT_DATE, affiliate_codes=AFFILIATES)
    return train, truth, true_scores


class TrueScoreRecommender:
    """Test helper: scores = planted true scores (an in-test oracle)."""

    name = "true_scores"

    def __init__(self, true_scores: np.ndarray):
        self.true_scores = np.asarray(true_scores, dtype=np.float32)

    def fit(self, data: InteractionData, seed: int = 0) -> TrueScoreRecommender:
        return self

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        return self.true_scores[np.asarray(customer_idx)]


def interaction_data_from_indices(
    customer_idx,
    product_idx,
    affiliate_idx,
    purchased_at,
    *,
    n_customers: int,
    n_products: int,
    n_affiliates: int,
    cut_date: dt.date,
) -> InteractionData:
    """A hand-made InteractionData: one line per (customer, product, affiliate, time), every
    product sold where it was bought, no customer attributes and no product categories."""
    n_lines = len(customer_idx)
    lines = pd.DataFrame(
        {
            "customer_idx": customer_idx,
            "product_idx": product_idx,
            "affiliate_idx": affiliate_idx,
            "purchased_at": purchased_at,
            "session_id": np.arange(n_lines, dtype=np.int64),
            "quantity": np.ones(n_lines, np.int32),
            "amount": np.ones(n_lines),
        }
    )
    assortment = np.zeros((n_affiliates, n_products), dtype=bool)
    assortment[affiliate_idx, product_idx] = True
    return InteractionData(
        customer_ids=np.array([f"C{i}" for i in range(n_customers)], dtype=object),
        product_codes=np.array([f"P{j}" for j in range(n_products)], dtype=object),
        affiliate_codes=np.array([f"A0{k + 1}" for k in range(n_affiliates)], dtype=object),
        lines=lines,
        customer_features=pd.DataFrame(index=pd.RangeIndex(n_customers)),
        product_features=pd.DataFrame(index=pd.RangeIndex(n_products)),
        assortment=assortment,
        cut_date=cut_date,
    )
