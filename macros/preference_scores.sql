{#- Seed 000's preference score for every (affiliate, customer, product) bought on or
    before `as_of` (a SQL date expression). Three components, each mapped to a 0–5 level
    by its percentile within the affiliate, so equal values share a level and the mapping
    is stable across runs:
      buy_level      ← n_purchases: receipts with the product. 0 = bought once; a repeat
                       pair gets 1 + floor(5 × percent_rank) among the affiliate's repeat
                       pairs (most pairs are bought once, so a plain percentile would put
                       every repeat pair at 4–5 and lose the signal of 3, 5, 10 purchases);
      category_level ← category_share: share of the customer's lines at the affiliate
                       that fall in the product's major category, min(5, floor(6 × percent_rank));
      interval_level ← interval_ratio = (as_of + 1 day − last purchase) / mean repurchase
                       interval. A single-purchase pair uses the largest mean interval of
                       the same major category: the customer's own at that affiliate, else
                       the affiliate's over all customers, else the days of history;
                       same percentile mapping as category_level.
    preference_score = weighted sum of the levels (vars preference_weight_*; they sum to 1). -#}
{% macro preference_scores(as_of) -%}
with pair_days as (
    select *
    from {{ ref('int_customer_product_days') }}
    where purchase_date <= {{ as_of }}
),

pairs as (
    select
        affiliate_code,
        customer_id,
        product_code,
        any_value(category_major) as category_major,
        cast(sum(n_receipts) as bigint) as n_purchases,
        count(*) as n_purchase_days,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        cast(sum(n_lines) as bigint) as n_lines
    from pair_days
    group by affiliate_code, customer_id, product_code
),

with_interval as (
    select
        *,
        case when n_purchase_days > 1
            then {{ days_between('first_purchase_date', 'last_purchase_date') }} / (n_purchase_days - 1.0)
        end as own_mean_interval_days
    from pairs
),

customer_lines as (
    select affiliate_code, customer_id, sum(n_lines) as customer_lines
    from pairs
    group by affiliate_code, customer_id
),

customer_category as (
    select
        affiliate_code,
        customer_id,
        category_major,
        sum(n_lines) as category_lines,
        max(own_mean_interval_days) as customer_category_max_interval
    from with_interval
    group by affiliate_code, customer_id, category_major
),

affiliate_category as (
    select affiliate_code, category_major, max(own_mean_interval_days) as affiliate_category_max_interval
    from with_interval
    group by affiliate_code, category_major
),

history as (
    select greatest(1, {{ days_between('min(purchase_date)', as_of) }} + 1) as history_days from pair_days
),

components as (
    select
        p.affiliate_code,
        p.customer_id,
        p.product_code,
        p.category_major,
        p.n_purchases,
        p.n_purchase_days,
        p.first_purchase_date,
        p.last_purchase_date,
        p.own_mean_interval_days,
        coalesce(
            p.own_mean_interval_days,
            cc.customer_category_max_interval,
            ac.affiliate_category_max_interval,
            (select history_days from history)
        ) as mean_interval_days,
        p.own_mean_interval_days is null as interval_is_fallback,
        cc.category_lines / cl.customer_lines as category_share
    from with_interval as p
    inner join customer_lines as cl
        on p.affiliate_code = cl.affiliate_code and p.customer_id = cl.customer_id
    -- a dataset without categories (Online Retail) has category_major null everywhere: one
    -- category per customer, so category_share = 1 and category_level is neutral (0) for all
    inner join customer_category as cc
        on
            p.affiliate_code = cc.affiliate_code
            and p.customer_id = cc.customer_id
            and p.category_major is not distinct from cc.category_major
    inner join affiliate_category as ac
        on p.affiliate_code = ac.affiliate_code and p.category_major is not distinct from ac.category_major
),

ratios as (
    select
        *,
        ({{ days_between('last_purchase_date', as_of) }} + 1) / mean_interval_days as interval_ratio
    from components
),

levels as (
    select
        *,
        case when n_purchases = 1 then 0 else cast(least(5, 1 + floor(5 * percent_rank() over (
            partition by affiliate_code, n_purchases > 1 order by n_purchases))) as integer) end as buy_level,
        {{ percentile_level('category_share') }} as category_level,
        {{ percentile_level('interval_ratio') }} as interval_level
    from ratios
)

select
    *,
    -- rounded so that e.g. 4.5 is not 4.4999999 in floating point at the thresholds
    round(cast(
        {{ var('preference_weight_buy') }} * buy_level
        + {{ var('preference_weight_category') }} * category_level
        + {{ var('preference_weight_interval') }} * interval_level
    as double), 6) as preference_score
from levels
{%- endmacro %}

{#- 0–5 level of a value by its percentile among the affiliate's pairs. -#}
{% macro percentile_level(expression) -%}
    cast(least(5, floor(6 * percent_rank() over (partition by affiliate_code order by {{ expression }}))) as integer)
{%- endmacro %}
