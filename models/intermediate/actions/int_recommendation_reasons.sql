{{ config(enabled=capability('has_products')) }}

-- One short human reason per champion recommendation row (customer × affiliate × kind ×
-- product of int_recommendations where is_champion). The first that applies
-- (docs/actions.md, "Reasons"):
--   1. repurchase_interval  a replenishment row whose product has a mean interval in the timing
--                           model (repurchase_timing, item_level product):
--                           "you buy it about every N days" (N = the mean interval, rounded);
--   2. bought_together      an association rule (association_rules: receipt baskets, scope
--                           overall) from a product the customer bought up to observation_end
--                           to this product: "often bought with <that product's name>" (the
--                           rule with the highest lift, then confidence, then antecedent code);
--   3. segment_popularity   among the top 10% of the products the customer's segment bought,
--                           by the segment's buyers: "popular in your segment (#N)", N = its
--                           rank (ties share a rank; segment_popularity_rank is kept for every
--                           product the segment bought);
--   4. model_pick           none of these: "picked for you from your purchase history".
with params as (
    select observation_end from {{ ref('int_run_parameters') }}
),

champion_rows as (
    select distinct
        customer_id,
        affiliate_code,
        recommendation_kind,
        product_code
    from {{ ref('int_recommendations') }}
    where is_champion
),

bought as (
    select distinct
        customer_id,
        product_code
    from {{ ref('int_customer_product_days') }}
    where purchase_date <= (select params.observation_end from params)
),

segments as (
    select
        customer_id,
        segment_name
    from {{ ref('int_customer_segments') }}
),

intervals as (
    select
        customer_id,
        item_id as product_code,
        mean_interval_days
    from {{ ref('repurchase_timing') }}
    where item_level = 'product' and mean_interval_days is not null
),

best_rule as (
    select
        champion_rows.customer_id,
        champion_rows.affiliate_code,
        champion_rows.recommendation_kind,
        champion_rows.product_code,
        rules.antecedent_product_code,
        rules.lift
    from champion_rows
    inner join {{ ref('association_rules') }} as rules
        on
            champion_rows.product_code = rules.consequent_product_code
            and rules.basket_kind = 'receipt'
            and rules.scope = 'overall'
    inner join bought
        on
            champion_rows.customer_id = bought.customer_id
            and rules.antecedent_product_code = bought.product_code
    qualify row_number() over (
        partition by
            champion_rows.customer_id,
            champion_rows.affiliate_code,
            champion_rows.recommendation_kind,
            champion_rows.product_code
        order by rules.lift desc, rules.confidence desc, rules.antecedent_product_code asc
    ) = 1
),

segment_popularity as (
    select
        segments.segment_name,
        bought.product_code,
        rank() over (partition by segments.segment_name order by count(*) desc) as popularity_rank,
        count(*) over (partition by segments.segment_name) as n_segment_products
    from bought
    inner join segments using (customer_id)
    group by segments.segment_name, bought.product_code
),

evidence as (
    select
        champion_rows.*,
        case when champion_rows.recommendation_kind = 'replenishment' then intervals.mean_interval_days end
            as mean_interval_days,
        best_rule.antecedent_product_code,
        antecedent.product_name as antecedent_product_name,
        best_rule.lift as association_lift,
        segments.segment_name,
        segment_popularity.popularity_rank as segment_popularity_rank,
        segment_popularity.popularity_rank <= greatest(1, 0.1 * segment_popularity.n_segment_products)
            as is_popular_in_segment
    from champion_rows
    left join intervals using (customer_id, product_code)
    left join best_rule using (customer_id, affiliate_code, recommendation_kind, product_code)
    left join {{ ref('int_products') }} as antecedent
        on best_rule.antecedent_product_code = antecedent.product_code
    left join segments using (customer_id)
    left join segment_popularity using (segment_name, product_code)
)

select
    customer_id,
    affiliate_code,
    recommendation_kind,
    product_code,
    case
        when mean_interval_days is not null then 'repurchase_interval'
        when antecedent_product_code is not null then 'bought_together'
        when is_popular_in_segment then 'segment_popularity'
        else 'model_pick'
    end as reason_kind,
    case
        when mean_interval_days is not null and round(mean_interval_days) <= 1
            then 'you buy it about every day'
        when mean_interval_days is not null
            then 'you buy it about every ' || cast(cast(round(mean_interval_days) as integer) as varchar) || ' days'
        when antecedent_product_code is not null
            then 'often bought with ' || coalesce(antecedent_product_name, antecedent_product_code)
        when is_popular_in_segment
            then 'popular in your segment (#' || cast(segment_popularity_rank as varchar) || ')'
        else 'picked for you from your purchase history'
    end as reason,
    mean_interval_days,
    antecedent_product_code,
    association_lift,
    segment_name,
    cast(segment_popularity_rank as integer) as segment_popularity_rank
from evidence
