{{ config(enabled=capability('has_products')) }}

-- The products of each active customer's plan at each plan cut (docs/actions.md, "Products"):
-- up to 3 slots from the customer's champion recommendations over every affiliate and kind —
-- champion_recommendations for the published plan (observation_end), the champion lists fitted
-- up to calibration_end for the back-test. Order: the playbook's product_focus kind first, then
-- the calibrated purchase_probability (comparable across models and kinds), the list rank,
-- affiliate and product code; a product recommended at several affiliates or under several
-- kinds keeps its first row only.
with states as (
    select
        plan_cut,
        customer_id,
        playbook_key
    from {{ ref('int_nba_customer_states') }}
),

champions as (
    select
        'observation_end' as plan_cut,
        customer_id,
        affiliate_code,
        recommendation_kind,
        rank,
        product_code,
        purchase_probability
    from {{ ref('champion_recommendations') }}
    union all
    select
        'calibration_end' as plan_cut,
        customer_id,
        affiliate_code,
        recommendation_kind,
        rank,
        product_code,
        purchase_probability
    from {{ ref('int_champion_recommendations_calibration') }}
),

candidates as (
    select
        champions.*,
        coalesce(playbook.product_focus = champions.recommendation_kind, false) as is_focus_kind
    from champions
    inner join states using (plan_cut, customer_id)
    left join {{ ref('crm_playbook') }} as playbook using (playbook_key)
),

best_row_per_product as (
    select *
    from candidates
    qualify row_number() over (
        partition by plan_cut, customer_id, product_code
        order by is_focus_kind desc, purchase_probability desc nulls last, rank asc, affiliate_code asc
    ) = 1
)

select
    plan_cut,
    customer_id,
    cast(row_number() over (
        partition by plan_cut, customer_id
        order by
            is_focus_kind desc, purchase_probability desc nulls last, rank asc, affiliate_code asc, product_code asc
    ) as integer) as slot,
    affiliate_code,
    recommendation_kind,
    product_code,
    purchase_probability
from best_row_per_product
qualify slot <= 3
