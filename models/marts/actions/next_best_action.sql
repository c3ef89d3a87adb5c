-- One row per active customer: what to offer, when, and in which order (docs/actions.md). The
-- plan at observation_end of int_nba_plan (the logic the back-test replays at calibration_end),
-- with its products side by side (product_*_1..3) for BI tools and campaign exports. Without
-- products (CDNOW) the product columns are null.
{% set slots = [1, 2, 3] %}
with plan as (
    select * from {{ ref('int_nba_plan') }}
    where plan_cut = 'observation_end'
)

{% if capability('has_products') %}
    ,

    products as (
        select
            plan_products.customer_id,
            plan_products.slot,
            plan_products.affiliate_code,
            plan_products.recommendation_kind,
            plan_products.product_code,
            catalogue.product_name,
            plan_products.purchase_probability,
            reasons.reason
        from {{ ref('int_nba_plan_products') }} as plan_products
        left join {{ ref('int_products') }} as catalogue using (product_code)
        left join {{ ref('int_recommendation_reasons') }} as reasons
            using (customer_id, affiliate_code, recommendation_kind, product_code)
        where plan_products.plan_cut = 'observation_end'
    ),

    products_wide as (
        select
            customer_id,
            {% for s in slots %}
                any_value(product_code) filter (where slot = {{ s }}) as product_code_{{ s }},
                any_value(product_name) filter (where slot = {{ s }}) as product_name_{{ s }},
                any_value(recommendation_kind) filter (where slot = {{ s }}) as recommendation_kind_{{ s }},
                any_value(affiliate_code) filter (where slot = {{ s }}) as affiliate_code_{{ s }},
                any_value(purchase_probability) filter (where slot = {{ s }}) as purchase_probability_{{ s }},
                any_value(reason) filter (where slot = {{ s }}) as reason_{{ s }},
            {% endfor %}
            cast(count(*) as integer) as n_products
        from products
        group by customer_id
    )
{% endif %}

select
    plan.customer_id,
    plan.segment_name,
    plan.tier,
    plan.playbook_key,
    plan.objective,
    plan.action,
    plan.offer_type,
    plan.offer_example,
    plan.product_focus,
    plan.contact_start_date,
    plan.contact_end_date,
    plan.contact_window_source,
    {% if capability('has_products') %}
        {% for s in slots %}
            products_wide.product_code_{{ s }},
            products_wide.product_name_{{ s }},
            products_wide.recommendation_kind_{{ s }},
            products_wide.affiliate_code_{{ s }},
            cast(products_wide.purchase_probability_{{ s }} as double) as purchase_probability_{{ s }},
            products_wide.reason_{{ s }},
        {% endfor %}
    {% else %}
        {% for s in slots %}
            cast(null as varchar) as product_code_{{ s }},
            cast(null as varchar) as product_name_{{ s }},
            cast(null as varchar) as recommendation_kind_{{ s }},
            cast(null as varchar) as affiliate_code_{{ s }},
            cast(null as double) as purchase_probability_{{ s }},
            cast(null as varchar) as reason_{{ s }},
        {% endfor %}
    {% endif %}
    {% if capability('has_products') %}
        coalesce(products_wide.n_products, 0) as n_products,
    {% else %}
        cast(0 as integer) as n_products,
    {% endif %}
    plan.last_purchase_date,
    plan.days_since_last_purchase,
    cast(plan.p_alive as double) as p_alive,
    cast(plan.expected_value as double) as clv_12m,
    plan.suppressed,
    plan.suppression_reason,
    cast(plan.priority_score as double) as priority_score,
    plan.priority_rank,
    plan.action_rank,
    plan.cut_date as plan_date,
    parameters.run_started_at as generated_at
from plan
{% if capability('has_products') %}
    left join products_wide using (customer_id)  -- noqa: ST11
{% endif %}
cross join {{ ref('int_run_parameters') }} as parameters
