"""The expectation suites over the published marts, declared as data.

One :class:`MartSuite` per mart (schema ``marts``). A suite says which columns form the
key, which columns must exist, and which value rules hold; :mod:`.frames` turns it into
the SQL that loads the mart into pandas and :mod:`.runner` into a Great Expectations
``ExpectationSuite``. Column rules use ``fnmatch`` patterns (``clv_*``) and apply to the
columns that are present, so new columns are picked up and optional ones may be absent.

Rules that need more than one row or more than one table (ranks without gaps, "not
already bought", "every customer has a segment", shares summing to 1) are *checks*: a
boolean SQL expression evaluated per mart row (alias ``m``) into a ``chk_*`` column of the
validated frame, which the suite expects to be all True. Row-count consistency with the
customer base uses a suite parameter (``$PARAMETER``) filled with the other mart's count.
Everything reaches GX through the pandas datasource (the SQL datasource is broken
upstream, see STACK_NOTES).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIERS = ("VIP", "Gold", "Silver", "Bronze", "At Risk")
ONLINE_GRADES = ("VIP", "G3", "G2", "G1")
CHANNELS = ("offline", "online")
# Sanity bounds for timestamps: full timestamps (date-only bounds fail on pandas in GX 1.24).
TS_MIN = "1990-01-01 00:00:00"
TS_MAX = "2100-01-01 00:00:00"


@dataclass(frozen=True)
class Variant:
    """One way to compute a check; the first variant whose relations all exist is used."""

    requires: tuple[str, ...]  # schema-qualified relations, e.g. "marts.segment_profiles"
    sql: str  # boolean SQL expression over the mart row `m`; NULL counts as a violation


@dataclass(frozen=True)
class Check:
    name: str  # column name in the validated frame; must start with "chk_"
    description: str
    variants: tuple[Variant, ...]
    columns: tuple[str, ...] = ()  # mart columns the expression reads (skipped if absent)


@dataclass(frozen=True)
class Coverage:
    """Every key of `parent` must have a row in this mart. Missing keys are appended to the
    validated frame as placeholder rows (all mart columns NULL) with `<check name>` False,
    so the check and the not-null rules on the mart's columns report them."""

    parent: str  # schema-qualified relation
    key: str
    name: str
    description: str


@dataclass(frozen=True)
class MartSuite:
    mart: str
    description: str
    key: tuple[str, ...]
    nullable_key: tuple[str, ...] = ()  # key parts that may be NULL (model_metrics.k)
    required: tuple[str, ...] = ()  # columns that must exist (besides the key)
    not_null: tuple[str, ...] = ()  # patterns
    between: dict[str, tuple[float | str | None, float | str | None]] = field(default_factory=dict)
    in_set: dict[str, tuple] = field(default_factory=dict)
    regex: dict[str, str] = field(default_factory=dict)
    unique: tuple[tuple[str, ...], ...] = ()  # further unique column combinations
    checks: tuple[Check, ...] = ()
    coverage: Coverage | None = None
    row_count_equals: str | None = None  # mart whose row count this mart must equal
    min_rows: int = 1


def _gapless_rank(rank: str, partition: str) -> str:
    return f'm."{rank}" = row_number() over (partition by {partition} order by m."{rank}")'


NOT_ALREADY_BOUGHT = Check(
    name="chk_not_already_bought",
    description="The recommended product was never bought by that customer at that affiliate.",
    columns=("customer_id", "affiliate_code", "product_code"),
    variants=(
        Variant(
            ("intermediate.int_transactions",),
            "not exists (select 1 from intermediate.int_transactions b"
            " where b.customer_id = m.customer_id and b.affiliate_code = m.affiliate_code"
            " and b.product_code = m.product_code)",
        ),
        Variant(
            ("marts.customer_product_preference",),
            "not exists (select 1 from marts.customer_product_preference b"
            " where b.customer_id = m.customer_id and b.affiliate_code = m.affiliate_code"
            " and b.product_code = m.product_code)",
        ),
    ),
)

SUITES: tuple[MartSuite, ...] = (
    MartSuite(
        mart="customer_rfm",
        description="One row per customer with a purchase: lifetimes summary and classic RFM.",
        key=("customer_id",),
        required=("frequency", "recency", "T", "monetary_value", "r_score", "f_score",
                  "m_score", "rfm_cell"),
        not_null=("frequency", "recency", "T", "monetary_value", "r_score", "f_score",
                  "m_score", "rfm_cell", "days_since_last_purchase", "n_receipts",
                  "total_spend"),
        between={
            "frequency": (0, None), "recency": (0, None), "T": (0, None),
            "monetary_value": (0, None), "days_since_last_purchase": (0, None),
            "n_receipts": (1, None), "total_spend": (0, None),
            "lpay_spend": (0, None), "other_spend": (0, None), "lpay_receipts": (0, None),
            "online_spend": (0, None), "lpay_payments": (0, None), "n_purchase_days": (1, None),
        },
        in_set={"r_score": (1, 2, 3, 4, 5), "f_score": (1, 2, 3, 4, 5),
                "m_score": (1, 2, 3, 4, 5), "online_grade": ONLINE_GRADES},
        regex={"rfm_cell": r"^R[1-5]F[1-5]M[1-5]$"},
        checks=(
            Check("chk_recency_within_T", "recency (first to last purchase) <= T (first purchase to observation end).",
                  (Variant((), "m.recency <= m.T"),), ("recency", "T")),
            Check("chk_frequency_is_repeat_days", "frequency = n_purchase_days - 1 (lifetimes definition).",
                  (Variant((), "m.frequency = m.n_purchase_days - 1"),), ("frequency", "n_purchase_days")),
            Check("chk_first_before_last_purchase", "first_purchase_date <= last_purchase_date.",
                  (Variant((), "m.first_purchase_date <= m.last_purchase_date"),),
                  ("first_purchase_date", "last_purchase_date")),
        ),
    ),
    MartSuite(
        mart="customer_product_preference",
        description="Preference score per affiliate x customer x product (seed 000).",
        key=("affiliate_code", "customer_id", "product_code"),
        required=("buy_level", "category_level", "interval_level", "preference_score"),
        not_null=("buy_level", "category_level", "interval_level", "preference_score"),
        between={"buy_level": (0, 5), "category_level": (0, 5), "interval_level": (0, 5),
                 "preference_score": (0, 5), "category_share": (0, 1), "n_purchases": (1, None),
                 "n_purchase_days": (1, None)},
    ),
    MartSuite(
        mart="preference_score_backtest",
        description="Share of pairs scoring >= threshold that were bought again after calibration_end.",
        key=("affiliate_code", "threshold"),
        required=("n_pairs", "repurchase_rate"),
        not_null=("n_pairs",),
        between={"threshold": (0, 5), "n_pairs": (0, None), "n_repurchased": (0, None),
                 "repurchase_rate": (0, 1)},
        checks=(
            Check("chk_repurchased_within_pairs", "n_repurchased <= n_pairs.",
                  (Variant((), "m.n_repurchased <= m.n_pairs"),), ("n_repurchased", "n_pairs")),
        ),
    ),
    MartSuite(
        mart="customer_sessions",
        description="Shopping sessions (seed 003).",
        key=("session_id",),
        required=("customer_id", "affiliate_code", "channel", "session_start"),
        not_null=("customer_id", "affiliate_code", "channel", "session_start", "n_lines",
                  "n_units", "spend"),
        between={"n_lines": (1, None), "n_units": (0, None), "spend": (0, None),
                 "n_products": (1, None), "n_categories": (0, None),
                 "session_start": (TS_MIN, TS_MAX)},
        in_set={"channel": CHANNELS},
    ),
    MartSuite(
        mart="customer_session_sequences",
        description="Ordered session sequences per customer (input of the sequential recommender).",
        key=("customer_id", "session_index"),
        required=("session_id",),
        not_null=("session_id", "session_start"),
        between={"session_index": (1, None), "days_since_previous_session": (0, None),
                 "session_start": (TS_MIN, TS_MAX)},
        unique=(("session_id",),),
        checks=(
            Check("chk_session_index_without_gap", "session_index runs 1..N without gaps per customer.",
                  (Variant((), _gapless_rank("session_index", "m.customer_id")),), ("session_index",)),
            Check("chk_session_in_customer_sessions", "session_id exists in customer_sessions.",
                  (Variant(("marts.customer_sessions",),
                           "exists (select 1 from marts.customer_sessions s where s.session_id = m.session_id)"),),
                  ("session_id",)),
        ),
    ),
    MartSuite(
        mart="customer_cohorts",
        description="First-purchase-month cohorts x months since first purchase.",
        key=("cohort_month", "months_since_first"),
        not_null=("active_customers", "spend"),
        between={"months_since_first": (0, None), "active_customers": (0, None),
                 "cohort_size": (1, None), "retention_rate": (0, 1),
                 "spend": (0, None), "cumulative_spend_per_customer": (0, None)},
        checks=(
            Check("chk_active_within_cohort", "active_customers <= cohort_size.",
                  (Variant((), "m.active_customers <= m.cohort_size"),), ("active_customers", "cohort_size")),
        ),
    ),
    MartSuite(
        mart="customer_segments",
        description="Customer -> KMeans segment and VIP/Gold/Silver/Bronze/At Risk tier.",
        key=("customer_id",),
        required=("segment_id", "segment_name", "tier"),
        not_null=("segment_id", "segment_name", "tier"),
        in_set={"tier": TIERS},
        checks=(
            Check("chk_segment_in_profiles", "segment_id exists in segment_profiles.",
                  (Variant(("marts.segment_profiles",),
                           "exists (select 1 from marts.segment_profiles p where p.segment_id = m.segment_id"
                           " and p.segmentation_model = m.segmentation_model)"),),
                  ("segment_id",)),
        ),
        coverage=Coverage("marts.customer_rfm", "customer_id", "chk_customer_rfm_covered",
                          "Every customer with a purchase (customer_rfm) has a segment row."),
    ),
    MartSuite(
        mart="segment_profiles",
        description="Segment profiles in original units, one row per model × segment.",
        key=("segmentation_model", "segment_id"),
        not_null=("segment_name", "n_customers", "share"),
        between={"n_customers": (1, None), "share": (0, 1)},
    ),
    MartSuite(
        mart="segment_centroids",
        description="Segmentation model parameters: centroids and scaler per model × segment × feature.",
        key=("segmentation_model", "segment_id", "feature"),
    ),
    MartSuite(
        mart="customer_clv",
        description="BG/NBD + Gamma-Gamma per customer: P(alive), expected purchases, CLV.",
        key=("customer_id",),
        required=("p_alive", "expected_purchases_90d", "clv_12m"),
        not_null=("p_alive", "expected_purchases_*", "clv_*"),
        between={"p_alive": (0, 1), "expected_purchases_*": (0, None),
                 "expected_avg_spend": (0, None), "clv_*": (0, None)},
        row_count_equals="customer_rfm",
    ),
    MartSuite(
        mart="clv_model_params",
        description="Fitted CLV model parameters.",
        key=("model", "parameter"),
        required=("value",),
        checks=(
            Check("chk_value_present", "value is not null (a log-likelihood that overflows may be null).",
                  (Variant((), "m.value is not null or m.parameter = 'log_likelihood'"),), ("value", "parameter")),
        ),
    ),
    MartSuite(
        mart="customer_360",
        description="One row per customer: RFM, segment, tier, CLV, P(alive).",
        key=("customer_id",),
        between={"p_alive": (0, 1), "clv_*": (0, None), "expected_purchases_*": (0, None)},
        in_set={"tier": TIERS, "r_score": (1, 2, 3, 4, 5), "f_score": (1, 2, 3, 4, 5),
                "m_score": (1, 2, 3, 4, 5)},
        row_count_equals="customer_rfm",
    ),
    MartSuite(
        mart="product_recommendations",
        description="Top-N not-yet-bought products per customer x affiliate x model.",
        key=("customer_id", "affiliate_code", "model_name", "rank"),
        required=("product_code", "score"),
        not_null=("product_code", "score", "model_version", "generated_at"),
        between={"rank": (1, None), "generated_at": (TS_MIN, TS_MAX)},
        unique=(("customer_id", "affiliate_code", "model_name", "product_code"),),
        checks=(
            Check("chk_rank_without_gap", "Ranks run 1..N without gaps per customer x affiliate x model.",
                  (Variant((), _gapless_rank("rank", "m.customer_id, m.affiliate_code, m.model_name")),),
                  ("rank",)),
            NOT_ALREADY_BOUGHT,
        ),
    ),
    MartSuite(
        mart="affiliate_preferences",
        description="A customer's purchase share per affiliate (seed 000 affiliate choice weights).",
        key=("customer_id", "affiliate_code"),
        required=("purchase_share",),
        not_null=("purchase_share",),
        between={"*_share": (0, 1), "n_receipts": (1, None)},
        checks=(
            Check("chk_shares_sum_to_one", "purchase_share sums to 1 per customer (|sum - 1| <= 1e-6).",
                  (Variant((), "abs(sum(m.purchase_share) over (partition by m.customer_id) - 1) <= 1e-6"),),
                  ("purchase_share",)),
            Check("chk_spend_shares_sum_to_one", "spend_share sums to 1 per customer (|sum - 1| <= 1e-6).",
                  (Variant((), "abs(sum(m.spend_share) over (partition by m.customer_id) - 1) <= 1e-6"),),
                  ("spend_share",)),
        ),
    ),
    MartSuite(
        mart="stamp_mission",
        description="Top-5 major categories per customer with unbought products under each.",
        key=("customer_id", "category_rank", "product_rank"),
        between={"category_rank": (1, 5), "product_rank": (1, None)},
        checks=(
            Check("chk_category_rank_without_gap", "Category ranks run 1..N without gaps per customer.",
                  (Variant((), "m.category_rank = dense_rank() over (partition by m.customer_id order by m.category_rank)"),),
                  ("category_rank",)),
            Check("chk_product_rank_without_gap", "Product ranks run 1..N without gaps per customer x category.",
                  (Variant((), _gapless_rank("product_rank", "m.customer_id, m.category_rank")),),
                  ("product_rank",)),
        ),
    ),
    MartSuite(
        mart="model_metrics",
        description="Every model evaluation, per run.",
        key=("model_name", "metric", "k", "split"),
        nullable_key=("k",),
        required=("value", "evaluated_at"),
        not_null=("evaluated_at",),
        between={"k": (1, None), "evaluated_at": (TS_MIN, TS_MAX)},
    ),
)

SUITES_BY_MART: dict[str, MartSuite] = {s.mart: s for s in SUITES}


def generic_suite(mart: str) -> MartSuite:
    """Suite for a mart that has no declared suite: it must not be empty."""
    return MartSuite(mart=mart, description=f"{mart} (no declared suite: generic checks only)", key=())
