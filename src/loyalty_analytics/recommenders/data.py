"""Interaction data shared by every recommender (baselines, neural models, evaluation).

`build_interaction_data` turns the purchase lines of the warehouse (product-level lines
only: customer_id, product_code, affiliate_code, purchased_at, session_id, quantity,
amount) into integer-indexed arrays split at a cut date:

* history = lines with ``purchased_at < cut_date + 1 day`` (the cut day is history),
* truth   = distinct (customer_idx, product_idx) bought strictly after the cut day.

Index conventions (stable, documented for the model writers):

* customers: ``customer_ids`` = sorted union of ``customers.customer_id`` and the
  customers in ``lines``; position = customer index.
* products: ``product_codes`` = sorted union of ``products.product_code`` and the products
  in ``lines``; position = product index.
* affiliates: ``affiliate_codes`` as given, else sorted distinct affiliate codes of the
  lines. Lines at other affiliates are dropped.
* customer_features: gender int8 (0 female, 1 male, -1 unknown), age_band int16 (the
  first number in the band, e.g. 20 for '20대'/'20s'/20; 0 unknown), region_idx int16
  (0 unknown, 1.. = position in ``region_codes`` + 1).
* product_features: major_idx / middle_idx int16 (0 unknown, 1.. = position in
  ``category_majors`` / ``category_middles`` + 1).
* lines.session_id: dense int64 over the history, increasing in time within a customer
  (sessions ordered by (customer, first line time, original session id)).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "InteractionData",
    "Recommender",
    "build_interaction_data",
    "to_date",
]


def to_date(value) -> _dt.date:
    """datetime.date from a date, datetime, Timestamp or ISO string."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return pd.Timestamp(value).date()


def _codes(values: pd.Series | np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Position of each value in ``categories`` (-1 when absent), vectorised."""
    return pd.Categorical(np.asarray(values, dtype=object), categories=categories).codes.astype(np.int64)


def _sorted_str(*arrays) -> np.ndarray:
    vals: set[str] = set()
    for a in arrays:
        s = pd.Series(a, dtype=object).dropna().astype(str)
        vals.update(s.unique().tolist())
    return np.array(sorted(vals), dtype=object)


@dataclass(repr=False)
class InteractionData:
    customer_ids: np.ndarray  # str (object); position = customer index
    product_codes: np.ndarray  # str (object); position = product index
    affiliate_codes: np.ndarray  # str (object), e.g. ['A01', ..., 'A06']
    lines: pd.DataFrame  # history lines (see module docstring)
    customer_features: pd.DataFrame  # gender int8, age_band int16, region_idx int16
    product_features: pd.DataFrame  # major_idx int16, middle_idx int16
    assortment: np.ndarray  # bool [n_affiliates, n_products]
    cut_date: _dt.date
    preference: pd.DataFrame | None = None  # customer_idx, product_idx, affiliate_idx, preference_score
    # vocabularies behind the *_idx feature columns (index k+1 <-> vocabulary[k]; 0 = unknown)
    region_codes: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    category_majors: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    category_middles: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"InteractionData(n_customers={self.n_customers}, n_products={self.n_products}, "
            f"n_affiliates={self.n_affiliates}, n_lines={len(self.lines)}, cut_date={self.cut_date}, "
            f"preference={'None' if self.preference is None else len(self.preference)})"
        )

    # ---- sizes -----------------------------------------------------------------------
    @property
    def n_customers(self) -> int:
        return int(len(self.customer_ids))

    @property
    def n_products(self) -> int:
        return int(len(self.product_codes))

    @property
    def n_affiliates(self) -> int:
        return int(len(self.affiliate_codes))

    # ---- derived matrices (cached) ---------------------------------------------------
    def bought_matrix(self) -> sp.csr_matrix:
        """csr [n_customers, n_products] float32: number of history lines per pair."""
        if "bought" not in self._cache:
            ln = self.lines
            m = sp.csr_matrix(
                (
                    np.ones(len(ln), dtype=np.float32),
                    (ln["customer_idx"].to_numpy(), ln["product_idx"].to_numpy()),
                ),
                shape=(self.n_customers, self.n_products),
                dtype=np.float32,
            )
            m.sum_duplicates()
            m.sort_indices()
            self._cache["bought"] = m
        return self._cache["bought"]

    def bought_at_affiliate(self) -> list[sp.csr_matrix]:
        """One csr [n_customers, n_products] float32 of history line counts per affiliate
        (list position = affiliate index)."""
        if "bought_aff" not in self._cache:
            ln = self.lines
            a = ln["affiliate_idx"].to_numpy()
            out = []
            for k in range(self.n_affiliates):
                sel = a == k
                m = sp.csr_matrix(
                    (
                        np.ones(int(sel.sum()), dtype=np.float32),
                        (ln["customer_idx"].to_numpy()[sel], ln["product_idx"].to_numpy()[sel]),
                    ),
                    shape=(self.n_customers, self.n_products),
                    dtype=np.float32,
                )
                m.sum_duplicates()
                m.sort_indices()
                out.append(m)
            self._cache["bought_aff"] = out
        return self._cache["bought_aff"]

    def customer_affiliate_counts(self) -> np.ndarray:
        """float64 [n_customers, n_affiliates]: history lines per customer and affiliate."""
        if "cust_aff" not in self._cache:
            ln = self.lines
            m = np.zeros((self.n_customers, self.n_affiliates), dtype=np.float64)
            np.add.at(m, (ln["customer_idx"].to_numpy(), ln["affiliate_idx"].to_numpy()), 1.0)
            self._cache["cust_aff"] = m
        return self._cache["cust_aff"]

    def purchase_days(self) -> np.ndarray:
        """int64 [n_customers]: distinct purchase days in the history (0 = no history)."""
        if "days" not in self._cache:
            ln = self.lines
            day = ln["purchased_at"].dt.floor("D")
            d = pd.DataFrame({"c": ln["customer_idx"].to_numpy(), "d": day.to_numpy()}).drop_duplicates()
            self._cache["days"] = np.bincount(d["c"].to_numpy(), minlength=self.n_customers).astype(np.int64)
        return self._cache["days"]

    def has_history(self) -> np.ndarray:
        """bool [n_customers]: customer has at least one history line."""
        return np.asarray(self.bought_matrix().getnnz(axis=1) > 0)


@runtime_checkable
class Recommender(Protocol):
    """What evaluation and top-K lists need. Hyper-parameters and ``random_state`` go to the
    constructor (stored models: ``base.RecommenderBase``)."""

    name: str  # becomes model_name in the metrics / recommendations tables

    def fit(self, data: InteractionData) -> "Recommender": ...

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]; higher = more likely bought after the cut."""
        ...


_GENDER = {"female": 0, "f": 0, "여성": 0, "여": 0, "2": 0, "male": 1, "m": 1, "남성": 1, "남": 1, "1": 1}


def _gender_codes(s: pd.Series) -> np.ndarray:
    g = s.astype(object).map(lambda v: _GENDER.get(str(v).strip().lower(), -1) if pd.notna(v) else -1)
    return g.to_numpy(dtype=np.int8)


def _age_codes(s: pd.Series) -> np.ndarray:
    num = pd.to_numeric(s.astype(object).astype(str).str.extract(r"(\d+)", expand=False), errors="coerce")
    return num.fillna(0).astype(np.int16).to_numpy()


def _vocab_idx(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    vocab = _sorted_str(s)
    idx = _codes(s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v)), vocab) + 1
    return idx.astype(np.int16), vocab


HISTORY_COLUMNS = ["customer_idx", "product_idx", "affiliate_idx", "purchased_at", "session_id", "quantity", "amount"]


def build_interaction_data(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    preference: pd.DataFrame | None,
    cut_date,
    affiliate_codes=None,
) -> tuple[InteractionData, pd.DataFrame]:
    """lines columns: customer_id, product_code, affiliate_code, purchased_at, session_id
    (varchar), quantity, amount — ALL lines (history and after). customers: customer_id,
    gender ('female'/'male'), age_band, region_code. products: product_code, product_name,
    category_major, category_middle. preference: affiliate_code, customer_id, product_code,
    preference_score (already as of cut_date).

    Returns (history up to and including cut_date as InteractionData over ALL
    customers/products, truth = distinct (customer_idx int32, product_idx int32) bought
    after cut_date, sorted)."""
    cut = to_date(cut_date)
    ln = lines.loc[lines["product_code"].notna() & lines["customer_id"].notna()]
    customer_ids = _sorted_str(customers["customer_id"], ln["customer_id"])
    product_codes = _sorted_str(products["product_code"], ln["product_code"])
    affiliate_codes = (_sorted_str(ln["affiliate_code"]) if affiliate_codes is None
                       else np.array([str(a) for a in affiliate_codes], dtype=object))

    indexed = _indexed_lines(ln, customer_ids, product_codes, affiliate_codes)
    is_history = (indexed["purchased_at"] < pd.Timestamp(cut) + pd.Timedelta(days=1)).to_numpy()
    history = _with_dense_sessions(indexed.loc[is_history].copy())
    customer_features, region_codes = _customer_features(customers, customer_ids)
    product_features, majors, middles = _product_features(products, product_codes)
    data = InteractionData(
        customer_ids=customer_ids,
        product_codes=product_codes,
        affiliate_codes=affiliate_codes,
        lines=history,
        customer_features=customer_features,
        product_features=product_features,
        assortment=_assortment(history, len(affiliate_codes), len(product_codes)),
        cut_date=cut,
        preference=_indexed_preference(preference, customer_ids, product_codes, affiliate_codes),
        region_codes=region_codes,
        category_majors=majors,
        category_middles=middles,
    )
    return data, _truth_pairs(indexed.loc[~is_history])


def _indexed_lines(ln: pd.DataFrame, customer_ids, product_codes, affiliate_codes) -> pd.DataFrame:
    """Lines with integer indices (lines at affiliates outside ``affiliate_codes`` dropped);
    ``_sess`` keeps the original session id."""
    c_idx = _codes(ln["customer_id"].astype(str), customer_ids)
    p_idx = _codes(ln["product_code"].astype(str), product_codes)
    a_idx = _codes(ln["affiliate_code"].astype(object), affiliate_codes)
    ts = pd.to_datetime(ln["purchased_at"]).to_numpy()
    keep = a_idx >= 0
    return pd.DataFrame(
        {
            "customer_idx": c_idx[keep].astype(np.int32),
            "product_idx": p_idx[keep].astype(np.int32),
            "affiliate_idx": a_idx[keep].astype(np.int16),
            "purchased_at": ts[keep],
            "_sess": ln["session_id"].astype(object).astype(str).to_numpy()[keep],
            "quantity": pd.to_numeric(ln["quantity"]).fillna(1).astype(np.int32).to_numpy()[keep],
            "amount": pd.to_numeric(ln["amount"]).fillna(0.0).astype(np.float64).to_numpy()[keep],
        }
    )


def _with_dense_sessions(hist: pd.DataFrame) -> pd.DataFrame:
    """Replace ``_sess`` by dense session ids, increasing in time within a customer; lines
    sorted by customer, session, time, product."""
    sess = (
        hist.groupby(["customer_idx", "_sess"], sort=False, observed=True)["purchased_at"]
        .min()
        .rename("_first")
        .reset_index()
        .sort_values(["customer_idx", "_first", "_sess"], kind="mergesort")
    )
    sess["session_id"] = np.arange(len(sess), dtype=np.int64)
    hist = hist.merge(sess[["customer_idx", "_sess", "session_id"]], on=["customer_idx", "_sess"], how="left")
    return (
        hist.drop(columns="_sess")
        .sort_values(["customer_idx", "session_id", "purchased_at", "product_idx"], kind="mergesort")
        .reset_index(drop=True)
    )[HISTORY_COLUMNS]


def _truth_pairs(after: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer_idx, product_idx) bought after the cut, sorted."""
    return (
        after[["customer_idx", "product_idx"]]
        .drop_duplicates()
        .sort_values(["customer_idx", "product_idx"], kind="mergesort")
        .reset_index(drop=True)
    )


def _customer_features(customers: pd.DataFrame, customer_ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Row i = customer i: gender, age_band, region_idx; and the region vocabulary."""
    cust = customers.drop_duplicates("customer_id").copy()
    cust["customer_id"] = cust["customer_id"].astype(str)
    cust = cust.set_index("customer_id").reindex(customer_ids)
    regions = cust["region_code"] if "region_code" in cust else pd.Series([None] * len(cust))
    region_idx, region_codes = _vocab_idx(regions)
    features = pd.DataFrame(
        {
            "gender": _gender_codes(cust["gender"]) if "gender" in cust else np.full(len(cust), -1, np.int8),
            "age_band": _age_codes(cust["age_band"]) if "age_band" in cust else np.zeros(len(cust), np.int16),
            "region_idx": region_idx,
        }
    )
    return features, region_codes


def _product_features(products: pd.DataFrame, product_codes: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Row j = product j: major_idx, middle_idx; and the two category vocabularies."""
    prod = products.drop_duplicates("product_code").copy()
    prod["product_code"] = prod["product_code"].astype(str)
    prod = prod.set_index("product_code").reindex(product_codes)
    major_idx, majors = _vocab_idx(prod["category_major"])
    middle_idx, middles = _vocab_idx(prod["category_middle"])
    return pd.DataFrame({"major_idx": major_idx, "middle_idx": middle_idx}), majors, middles


def _assortment(history: pd.DataFrame, n_affiliates: int, n_products: int) -> np.ndarray:
    """bool [affiliates, products]: the affiliate sold the product in the history."""
    assortment = np.zeros((n_affiliates, n_products), dtype=bool)
    assortment[history["affiliate_idx"].to_numpy(), history["product_idx"].to_numpy()] = True
    return assortment


def _indexed_preference(preference: pd.DataFrame | None, customer_ids, product_codes,
                        affiliate_codes) -> pd.DataFrame | None:
    """Preference scores by index (rows with unknown ids dropped), sorted."""
    if preference is None:
        return None
    pc = _codes(preference["customer_id"].astype(str), customer_ids)
    pp = _codes(preference["product_code"].astype(str), product_codes)
    pa = _codes(preference["affiliate_code"].astype(object), affiliate_codes)
    ok = (pc >= 0) & (pp >= 0) & (pa >= 0)
    return (
        pd.DataFrame(
            {
                "customer_idx": pc[ok].astype(np.int32),
                "product_idx": pp[ok].astype(np.int32),
                "affiliate_idx": pa[ok].astype(np.int16),
                "preference_score": pd.to_numeric(preference["preference_score"]).to_numpy(dtype=np.float64)[ok],
            }
        )
        .sort_values(["customer_idx", "affiliate_idx", "product_idx"], kind="mergesort")
        .reset_index(drop=True)
    )
