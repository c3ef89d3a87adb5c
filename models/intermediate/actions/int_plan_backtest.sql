{{ config(enabled=capability('has_products')) }}

-- The plan back-test (docs/actions.md, "Back-test"), one row per arm × targeted customer × plan
-- slot. The plan built with history up to calibration_end (int_nba_plan / int_nba_plan_products,
-- plan_cut calibration_end) is scored on what customers bought after it:
--   targeted     customers not suppressed whose contact window starts on or before
--                observation_end (a window running past observation_end is cut there);
--   arms         plan: the plan's products; random_same_category: per slot a product of the
--                same major category (the whole catalogue without categories), drawn by md5 of
--                (var random_seed, customer, product); popularity: per slot the product bought
--                by the most customers at the slot's affiliate up to the cut (among its 300 most
--                popular products and the customer's own products there). Baseline products are
--                sold at the slot's affiliate (someone bought them there up to the cut), are not
--                in the customer's plan, differ between the customer's slots, and are eligible
--                for the slot's recommendation kind at the cut whenever such a product exists
--                (kind_eligible; else the next product in the arm's order);
--   comparable   every arm has a product of the slot's kind (kind_eligible) for this slot: the
--                like-for-like subset (a replenishment slot often has no other repeat product
--                of the same category, and a baseline's fallback product is bought less);
--   outcomes     bought_in_window: the customer bought the product at the slot's affiliate
--                within the contact window; bought_in_first_days: within a window as long,
--                starting the day after the cut (contact everyone at once: what the timing
--                adds); bought_after_cut: at any time in (calibration_end, observation_end].
{% set popular_candidates = 300 %}
with params as (
    select
        calibration_end,
        observation_end,
        cast({{ checked_number('random_seed', 42) }} as varchar) as seed,
        calibration_end + cast({{ checked_number('nba_contact_window_days', 14) }} as integer) as first_days_end
    from {{ ref('int_run_parameters') }}
),

targeted as (
    select
        customer_id,
        action,
        contact_start_date,
        least(contact_end_date, (select params.observation_end from params)) as contact_end_date
    from {{ ref('int_nba_plan') }}
    where
        plan_cut = 'calibration_end'
        and not suppressed
        and contact_start_date <= (select params.observation_end from params)
),

plan_slots as (
    select
        products.customer_id,
        products.slot,
        products.affiliate_code,
        products.recommendation_kind,
        products.product_code,
        catalogue.category_1 as category
    from {{ ref('int_nba_plan_products') }} as products
    inner join targeted using (customer_id)
    left join {{ ref('int_products') }} as catalogue using (product_code)
    where products.plan_cut = 'calibration_end'
),

history as (
    select
        affiliate_code,
        customer_id,
        product_code,
        count(distinct purchase_date) as n_purchase_days
    from {{ ref('int_customer_product_days') }}
    where purchase_date <= (select params.calibration_end from params)
    group by affiliate_code, customer_id, product_code
),

bought_anywhere as (
    select distinct
        customer_id,
        product_code
    from history
),

affiliate_products as (
    select
        history.affiliate_code,
        history.product_code,
        catalogue.category_1 as category,
        count(*) as n_buyers
    from history
    left join {{ ref('int_products') }} as catalogue using (product_code)
    group by history.affiliate_code, history.product_code, catalogue.category_1
),

popular_products as (
    select *
    from affiliate_products
    qualify
        row_number() over (partition by affiliate_code order by n_buyers desc, product_code asc)
        <= {{ popular_candidates }}
),

random_candidates as (
    select
        'random_same_category' as arm,
        plan_slots.customer_id,
        plan_slots.slot,
        plan_slots.affiliate_code,
        plan_slots.recommendation_kind,
        affiliate_products.product_code,
        md5(concat_ws('|', (select params.seed from params), plan_slots.customer_id, affiliate_products.product_code))
            as arm_order
    from plan_slots
    inner join affiliate_products
        on
            plan_slots.affiliate_code = affiliate_products.affiliate_code
            and plan_slots.category is not distinct from affiliate_products.category
),

-- the popularity arm's pool: the affiliate's most popular products and the customer's own
popularity_pool as (
    select
        affiliate_code,
        product_code,
        n_buyers,
        cast(null as varchar) as customer_id
    from popular_products
    union all
    select
        history.affiliate_code,
        history.product_code,
        affiliate_products.n_buyers,
        history.customer_id
    from history
    inner join affiliate_products using (affiliate_code, product_code)
),

popular_candidates as (
    select distinct
        'popularity' as arm,
        plan_slots.customer_id,
        plan_slots.slot,
        plan_slots.affiliate_code,
        plan_slots.recommendation_kind,
        popularity_pool.product_code,
        lpad(cast(1000000000 - popularity_pool.n_buyers as varchar), 10, '0') || popularity_pool.product_code
            as arm_order
    from plan_slots
    inner join popularity_pool
        on
            plan_slots.affiliate_code = popularity_pool.affiliate_code
            and (popularity_pool.customer_id is null or plan_slots.customer_id = popularity_pool.customer_id)
),

candidates as (
    select * from random_candidates
    union all
    select * from popular_candidates
),

-- eligible for the slot's kind at the cut, and not one of the customer's plan products
ranked_candidates as (
    select
        candidates.*,
        case candidates.recommendation_kind
            when 'new_to_customer' then anywhere.product_code is null
            when 'new_at_affiliate' then anywhere.product_code is not null and here.product_code is null
            when 'replenishment' then coalesce(here.n_purchase_days >= 2, false)
        end as kind_eligible,
        row_number() over (
            partition by candidates.arm, candidates.customer_id, candidates.slot
            order by
                case candidates.recommendation_kind
                    when 'new_to_customer' then anywhere.product_code is null
                    when 'new_at_affiliate' then anywhere.product_code is not null and here.product_code is null
                    when 'replenishment' then coalesce(here.n_purchase_days >= 2, false)
                end desc,
                candidates.arm_order
        ) as candidate_rank
    from candidates
    left join bought_anywhere as anywhere
        on candidates.customer_id = anywhere.customer_id and candidates.product_code = anywhere.product_code
    left join history as here
        on
            candidates.customer_id = here.customer_id
            and candidates.affiliate_code = here.affiliate_code
            and candidates.product_code = here.product_code
    where
        not exists (
            select 1
            from plan_slots
            where plan_slots.customer_id = candidates.customer_id and plan_slots.product_code = candidates.product_code
        )
    qualify candidate_rank <= 3
),

-- slot by slot, the first candidate not taken by the customer's earlier slots (at most 3 slots,
-- so each slot's first 3 candidates suffice)
{% for s in [1, 2, 3] %}
    picked_{{ s }} as (
        select ranked_candidates.*
        from ranked_candidates
        where
            ranked_candidates.slot = {{ s }}
            {% for earlier in range(1, s) %}
                and not exists (
                    select 1
                    from picked_{{ earlier }} as taken
                    where
                        taken.arm = ranked_candidates.arm
                        and taken.customer_id = ranked_candidates.customer_id
                        and taken.product_code = ranked_candidates.product_code
                )
            {% endfor %}
        qualify row_number() over (
            partition by ranked_candidates.arm, ranked_candidates.customer_id
            order by ranked_candidates.candidate_rank
        ) = 1
    ),
{% endfor %}

arm_slots as (
    select
        'plan' as arm,
        customer_id,
        slot,
        affiliate_code,
        recommendation_kind,
        product_code,
        true as kind_eligible
    from plan_slots
    {% for s in [1, 2, 3] %}
        union all
        select
            arm,
            customer_id,
            slot,
            affiliate_code,
            recommendation_kind,
            product_code,
            kind_eligible
        from picked_{{ s }}
    {% endfor %}
),

after_cut as (
    select
        affiliate_code,
        customer_id,
        product_code,
        purchase_date
    from {{ ref('int_customer_product_days') }}
    where
        purchase_date > (select params.calibration_end from params)
        and purchase_date <= (select params.observation_end from params)
)

select
    arm_slots.arm,
    arm_slots.customer_id,
    targeted.action,
    arm_slots.slot,
    arm_slots.affiliate_code,
    arm_slots.recommendation_kind,
    arm_slots.product_code,
    arm_slots.kind_eligible,
    count(*) over (partition by arm_slots.customer_id, arm_slots.slot) = 3
    and bool_and(arm_slots.kind_eligible) over (partition by arm_slots.customer_id, arm_slots.slot) as comparable,
    targeted.contact_start_date,
    targeted.contact_end_date,
    exists(
        select 1
        from after_cut
        where
            after_cut.customer_id = arm_slots.customer_id
            and after_cut.affiliate_code = arm_slots.affiliate_code
            and after_cut.product_code = arm_slots.product_code
            and after_cut.purchase_date between targeted.contact_start_date and targeted.contact_end_date
    ) as bought_in_window,
    exists(
        select 1
        from after_cut
        where
            after_cut.customer_id = arm_slots.customer_id
            and after_cut.affiliate_code = arm_slots.affiliate_code
            and after_cut.product_code = arm_slots.product_code
            and after_cut.purchase_date <= (select params.first_days_end from params)
    ) as bought_in_first_days,
    exists(
        select 1
        from after_cut
        where
            after_cut.customer_id = arm_slots.customer_id
            and after_cut.affiliate_code = arm_slots.affiliate_code
            and after_cut.product_code = arm_slots.product_code
    ) as bought_after_cut
from arm_slots
inner join targeted using (customer_id)
