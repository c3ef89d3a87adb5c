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
* customer_features: one int16 column per customer attribute (the columns of ``customers``
  other than customer_id, whatever they are): 0 unknown, k = ``attribute_levels[name][k - 1]``.
  Text / boolean / categorical columns → one level per distinct value (sorted); numeric columns
  → one level per distinct value when there are at most ``NUMERIC_BINS`` of them, else
  ``NUMERIC_BINS`` quantile bins. Attributes without any known value are dropped; no
  attribute at all is fine (an empty frame).
* product_features: one int16 column per category level present in ``products``
  (``category_1`` top … ``category_3``; L.Point's ``category_major`` / ``category_middle`` map
  onto ``category_1`` / ``category_2``): 0 unknown (no category), k = ``category_levels[level][k - 1]``.
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
    "CATEGORY_LEVELS",
    "affiliate_truth_pairs",
    "InteractionData",
    "Recommender",
    "build_interaction_data",
    "encode_attribute",
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
    affiliate_codes: np.ndarray  # str (object), e.g. ['A01', ..., 'A06'] or one business unit ['ALL']
    lines: pd.DataFrame  # history lines (see module docstring)
    customer_features: pd.DataFrame  # one int16 code column per customer attribute (0 unknown); may have none
    product_features: pd.DataFrame  # one int16 code column per category level category_1..3 (0 unknown)
    assortment: np.ndarray  # bool [n_affiliates, n_products]
    cut_date: _dt.date
    preference: pd.DataFrame | None = None  # customer_idx, product_idx, affiliate_idx, preference_score
    # the labels behind the code columns (code k <-> labels[k - 1]; 0 = unknown)
    attribute_levels: dict = field(default_factory=dict)  # attribute name -> labels
    category_levels: dict = field(default_factory=dict)  # category_1.. -> labels
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

    def purchase_days_at_affiliate(self) -> list[sp.csr_matrix]:
        """One csr [n_customers, n_products] float32 per affiliate: the distinct days the customer
        bought the product there in the history (what the replenishment kind counts)."""
        if "days_aff" not in self._cache:
            ln = self.lines
            days = pd.DataFrame(
                {
                    "c": ln["customer_idx"].to_numpy(),
                    "p": ln["product_idx"].to_numpy(),
                    "a": ln["affiliate_idx"].to_numpy(),
                    "d": ln["purchased_at"].dt.floor("D").to_numpy(),
                }
            ).drop_duplicates()
            out = []
            for k in range(self.n_affiliates):
                at = days[days["a"].to_numpy() == k]
                m = sp.csr_matrix(
                    (np.ones(len(at), dtype=np.float32), (at["c"].to_numpy(), at["p"].to_numpy())),
                    shape=(self.n_customers, self.n_products),
                    dtype=np.float32,
                )
                m.sum_duplicates()
                m.sort_indices()
                out.append(m)
            self._cache["days_aff"] = out
        return self._cache["days_aff"]

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

    def top_categories(self) -> np.ndarray:
        """int64 [n_products]: the product's top-level category code (0 = unknown or no categories)."""
        if len(self.product_features.columns):
            return self.product_features.iloc[:, 0].to_numpy().astype(np.int64)
        return np.zeros(self.n_products, dtype=np.int64)

    def products_sold(self) -> np.ndarray:
        """bool [n_products]: bought at least once in the history (at any affiliate)."""
        return np.asarray(self.assortment, dtype=bool).any(axis=0)

    def candidate_products(self, max_candidates: int | None) -> np.ndarray:
        """Sorted product indices: every product bought in the history, or — when there are more
        than ``max_candidates`` (None: no limit) — the ``max_candidates`` with the most distinct
        buyers (ties: more lines, then the lower index). The neural models' softmax covers these."""
        sold = np.flatnonzero(self.products_sold())
        if max_candidates is None or len(sold) <= max_candidates:
            return sold
        bought = self.bought_matrix()
        buyers, lines = np.asarray(bought.getnnz(axis=0))[sold], np.asarray(bought.sum(axis=0)).ravel()[sold]
        order = np.lexsort((sold, -lines, -buyers))
        return np.sort(sold[order[:max_candidates]])

    def has_history(self) -> np.ndarray:
        """bool [n_customers]: customer has at least one history line."""
        return np.asarray(self.bought_matrix().getnnz(axis=1) > 0)


@runtime_checkable
class Recommender(Protocol):
    """What evaluation and top-K lists need. Hyper-parameters and ``random_state`` go to the
    constructor (stored models: ``base.RecommenderBase``)."""

    name: str  # becomes model_name in the metrics / recommendations tables

    def fit(self, data: InteractionData) -> Recommender: ...

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]; higher = more likely bought after the cut."""
        ...


# Generic product category levels (top first) and the L.Point names that map onto them.
CATEGORY_LEVELS = ("category_1", "category_2", "category_3")
CATEGORY_ALIASES = {"category_major": "category_1", "category_middle": "category_2"}
NUMERIC_BINS = 8  # numeric customer attributes with more distinct values become this many quantile bins

HISTORY_COLUMNS = ["customer_idx", "product_idx", "affiliate_idx", "purchased_at", "session_id", "quantity", "amount"]


def build_interaction_data(
    lines: pd.DataFrame,
    customers: pd.DataFrame | None,
    products: pd.DataFrame | None,
    preference: pd.DataFrame | None,
    cut_date,
    affiliate_codes=None,
) -> tuple[InteractionData, pd.DataFrame]:
    """lines columns: customer_id, product_code, affiliate_code, purchased_at, session_id
    (the receipt / basket), quantity, amount — ALL lines (history and after); one business
    unit is one affiliate code. customers: customer_id + any attribute columns (or none, or
    None). products: product_code + optional product_name and category_1..3 (or L.Point's
    category_major / category_middle), or None. preference: affiliate_code, customer_id,
    product_code, preference_score (already as of cut_date).

    Returns (history up to and including cut_date as InteractionData over ALL
    customers/products, truth = distinct (customer_idx int32, product_idx int32) bought
    after cut_date, sorted)."""
    cut = to_date(cut_date)
    customers = pd.DataFrame({"customer_id": []}) if customers is None else customers
    products = _generic_products(products)
    ln = lines.loc[lines["product_code"].notna() & lines["customer_id"].notna()]
    customer_ids = _sorted_str(customers["customer_id"], ln["customer_id"])
    product_codes = _sorted_str(products["product_code"], ln["product_code"])
    affiliate_codes = (
        _sorted_str(ln["affiliate_code"])
        if affiliate_codes is None
        else np.array([str(a) for a in affiliate_codes], dtype=object)
    )

    indexed = _indexed_lines(ln, customer_ids, product_codes, affiliate_codes)
    is_history = (indexed["purchased_at"] < pd.Timestamp(cut) + pd.Timedelta(days=1)).to_numpy()
    history = _with_dense_sessions(indexed.loc[is_history].copy())
    customer_features, attribute_levels = _coded_columns(
        _aligned(customers, "customer_id", customer_ids), [c for c in customers.columns if c != "customer_id"]
    )
    product_features, category_levels = _coded_columns(
        _aligned(products, "product_code", product_codes), [c for c in CATEGORY_LEVELS if c in products.columns]
    )
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
        attribute_levels=attribute_levels,
        category_levels=category_levels,
    )
    return data, _truth_pairs(indexed.loc[~is_history])


def affiliate_truth_pairs(lines: pd.DataFrame, data: InteractionData) -> pd.DataFrame:
    """Distinct (customer_idx, product_idx, affiliate_idx) bought after ``data.cut_date`` in
    ``lines`` (raw lines as for build_interaction_data, already cut at the truth window's end),
    indexed with ``data``'s vocabularies; lines with unknown ids are dropped. The truth of the
    per-affiliate evaluation splits (``kinds``), where a product counts at the affiliate it
    was bought at."""
    ln = lines.loc[lines["product_code"].notna() & lines["customer_id"].notna()]
    after = (pd.to_datetime(ln["purchased_at"]) >= pd.Timestamp(data.cut_date) + pd.Timedelta(days=1)).to_numpy()
    ln = ln.loc[after]
    c = _codes(ln["customer_id"].astype(str), data.customer_ids)
    p = _codes(ln["product_code"].astype(str), data.product_codes)
    a = _codes(ln["affiliate_code"].astype(object), data.affiliate_codes)
    ok = (c >= 0) & (p >= 0) & (a >= 0)
    return (
        pd.DataFrame(
            {
                "customer_idx": c[ok].astype(np.int32),
                "product_idx": p[ok].astype(np.int32),
                "affiliate_idx": a[ok].astype(np.int16),
            }
        )
        .drop_duplicates()
        .sort_values(["customer_idx", "affiliate_idx", "product_idx"], kind="mergesort")
        .reset_index(drop=True)
    )


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


def _generic_products(products: pd.DataFrame | None) -> pd.DataFrame:
    """The products frame with L.Point's category names mapped onto category_1..3."""
    if products is None:
        return pd.DataFrame({"product_code": []})
    renames = {old: new for old, new in CATEGORY_ALIASES.items() if old in products.columns and new not in products}
    return products.rename(columns=renames)


def _aligned(frame: pd.DataFrame, key: str, ids: np.ndarray) -> pd.DataFrame:
    """One row per id of ``ids`` (in that order; missing ids are all-null rows)."""
    frame = frame.drop_duplicates(key).copy()
    frame[key] = frame[key].astype(str)
    return frame.set_index(key).reindex(ids).reset_index(drop=True)


def _coded_columns(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict]:
    """int16 codes (0 unknown) of each column with at least one known value, and their labels."""
    codes, levels = {}, {}
    for column in columns:
        coded, labels = encode_attribute(frame[column])
        if len(labels):
            codes[column], levels[column] = coded, labels
    return pd.DataFrame(codes, index=pd.RangeIndex(len(frame))), levels


def encode_attribute(values: pd.Series, n_bins: int = NUMERIC_BINS) -> tuple[np.ndarray, np.ndarray]:
    """int16 codes (0 = unknown, k = labels[k - 1]) and the labels of one attribute column:
    numbers with more than ``n_bins`` distinct values → quantile bins, anything else → one
    level per distinct value (numbers in numeric order, text sorted)."""
    numbers = _as_numbers(values)
    if numbers is None:
        text = values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v).strip())
        text = text.where(text != "", None)
        labels = _sorted_str(text)
        return (_codes(text, labels) + 1).astype(np.int16), labels
    known = np.isfinite(numbers)
    distinct = np.unique(numbers[known])
    if len(distinct) <= n_bins:
        codes = np.searchsorted(distinct, numbers) + 1
        labels = np.array([f"{v:g}" for v in distinct], dtype=object)
    else:
        edges = np.unique(np.quantile(numbers[known], np.linspace(0, 1, n_bins + 1)[1:-1]))
        codes = np.searchsorted(edges, numbers, side="right") + 1
        bounds = [f"{e:g}" for e in edges]
        labels = np.array(
            [f"< {bounds[0]}"] + [f"[{lo}, {hi})" for lo, hi in zip(bounds, bounds[1:])] + [f">= {bounds[-1]}"],
            dtype=object,
        )
    return np.where(known, codes, 0).astype(np.int16), labels


def _as_numbers(values: pd.Series) -> np.ndarray | None:
    """float64 values (NaN = unknown) when every known value is a number (booleans are not), else None."""
    if pd.api.types.is_bool_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    known = values.dropna()
    if not len(known) or known.map(lambda v: isinstance(v, bool) or not isinstance(v, (int, float, np.number))).any():
        return None
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _assortment(history: pd.DataFrame, n_affiliates: int, n_products: int) -> np.ndarray:
    """bool [affiliates, products]: the affiliate sold the product in the history."""
    assortment = np.zeros((n_affiliates, n_products), dtype=bool)
    assortment[history["affiliate_idx"].to_numpy(), history["product_idx"].to_numpy()] = True
    return assortment


def _indexed_preference(
    preference: pd.DataFrame | None, customer_ids, product_codes, affiliate_codes
) -> pd.DataFrame | None:
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
