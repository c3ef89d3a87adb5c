"""The validation rules the marts' dbt yml does not declare. Everything else comes from the
yml (:mod:`.dbt_rules`), so each rule is written once.

Three kinds live here:

- :data:`EXTRA_RULES`: per mart, what dbt yml cannot express with the project's tests:
  cross-mart rules (a recommendation's kind agrees with the purchases, every customer of customer_rfm
  has a segment, segment ids exist in segment_profiles, row counts equal to the customer
  base), row-level consistency between columns (recency <= T, ...) and a regex.
- :data:`NOT_YET_IN_DBT_YML`: rules the project's generic tests *can* express but the yml
  does not declare yet, written in yml form and parsed by the same code. Move each into its
  model's ``_*__models.yml`` and delete it here (a test fails while one is in both places).

A *check* is a boolean SQL expression evaluated per mart row (alias ``m``) in DuckDB into a
``chk_*`` column of the validated frame, which the suite expects to be all True. Row-count
consistency uses a suite parameter (``$PARAMETER``) filled with the other mart's count.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


def row_check(name: str, description: str, sql: str, columns: tuple[str, ...]) -> Check:
    """A check on the mart row alone (no other relation)."""
    return Check(name, description, (Variant((), sql),), columns)


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
class ExtraRules:
    mart: str
    checks: tuple[Check, ...] = ()
    regex: dict[str, str] = field(default_factory=dict)  # column -> pattern (GX ExpectColumnValuesToMatchRegex)
    coverage: Coverage | None = None
    row_count_equals: str | None = None  # mart whose row count this mart must equal


def _kind_matches(bought: str) -> str:
    """The recommendation's kind agrees with what the customer bought (``bought``: a relation of
    customer_id, affiliate_code, product_code): new_to_customer — never bought anywhere;
    new_at_affiliate — bought elsewhere, never at that affiliate; replenishment — bought there."""
    anywhere = (
        f"exists (select 1 from {bought} b where b.customer_id = m.customer_id and b.product_code = m.product_code)"
    )
    there = anywhere[:-1] + " and b.affiliate_code = m.affiliate_code)"
    return (
        f"case m.recommendation_kind when 'new_to_customer' then not {anywhere}"
        f" when 'new_at_affiliate' then {anywhere} and not {there}"
        f" when 'replenishment' then {there} end"
    )


KIND_MATCHES_HISTORY = Check(
    name="chk_kind_matches_history",
    description=(
        "The recommendation's kind agrees with the customer's purchases: new_to_customer never bought, "
        "new_at_affiliate never bought at that affiliate but elsewhere, replenishment bought at that affiliate."
    ),
    columns=("customer_id", "affiliate_code", "product_code", "recommendation_kind"),
    variants=(
        Variant(("intermediate.int_transactions",), _kind_matches("intermediate.int_transactions")),
        Variant(("marts.customer_product_preference",), _kind_matches("marts.customer_product_preference")),
    ),
)

EXTRA_RULES: tuple[ExtraRules, ...] = (
    ExtraRules(
        mart="customer_rfm",
        regex={"rfm_cell": r"^R[1-5]F[1-5]M[1-5]$"},
        checks=(
            row_check(
                "chk_recency_within_T",
                "recency (first to last purchase) <= T (first purchase to observation end).",
                "m.recency <= m.T",
                ("recency", "T"),
            ),
            row_check(
                "chk_frequency_is_repeat_days",
                "frequency = n_purchase_days - 1 (lifetimes definition).",
                "m.frequency = m.n_purchase_days - 1",
                ("frequency", "n_purchase_days"),
            ),
            row_check(
                "chk_first_before_last_purchase",
                "first_purchase_date <= last_purchase_date.",
                "m.first_purchase_date <= m.last_purchase_date",
                ("first_purchase_date", "last_purchase_date"),
            ),
        ),
    ),
    ExtraRules(
        mart="preference_score_backtest",
        checks=(
            row_check(
                "chk_repurchased_within_pairs",
                "n_repurchased <= n_pairs.",
                "m.n_repurchased <= m.n_pairs",
                ("n_repurchased", "n_pairs"),
            ),
        ),
    ),
    ExtraRules(
        mart="customer_cohorts",
        checks=(
            row_check(
                "chk_active_within_cohort",
                "active_customers <= cohort_size.",
                "m.active_customers <= m.cohort_size",
                ("active_customers", "cohort_size"),
            ),
        ),
    ),
    ExtraRules(
        mart="customer_segments",
        checks=(
            Check(
                "chk_segment_in_profiles",
                "segment_id exists in segment_profiles (for its segmentation_model).",
                (
                    Variant(
                        ("marts.segment_profiles",),
                        "exists (select 1 from marts.segment_profiles p where p.segment_id = m.segment_id"
                        " and p.segmentation_model = m.segmentation_model)",
                    ),
                ),
                ("segment_id", "segmentation_model"),
            ),
        ),
        coverage=Coverage(
            "marts.customer_rfm",
            "customer_id",
            "chk_customer_rfm_covered",
            "Every customer with a purchase (customer_rfm) has a segment row.",
        ),
    ),
    ExtraRules(mart="customer_clv", row_count_equals="customer_rfm"),
    ExtraRules(mart="customer_360", row_count_equals="customer_rfm"),
    ExtraRules(mart="product_recommendations", checks=(KIND_MATCHES_HISTORY,)),
    ExtraRules(mart="champion_recommendations", checks=(KIND_MATCHES_HISTORY,)),
    ExtraRules(
        mart="stamp_mission",
        checks=(
            # dense: a category's products share its rank, so ranks_without_gaps (1..N rows) does not fit
            row_check(
                "chk_category_rank_without_gap",
                "Category ranks run 1..N (dense) without gaps per customer.",
                "m.category_rank = dense_rank() over (partition by m.customer_id order by m.category_rank)",
                ("category_rank",),
            ),
        ),
    ),
)

EXTRA_RULES_BY_MART: dict[str, ExtraRules] = {e.mart: e for e in EXTRA_RULES}

# Rules the project's generic tests express but the yml does not declare yet (timestamp bounds
# are SQL literals, as dbt's value_between inlines them).
NOT_YET_IN_DBT_YML = """
models: []
"""
