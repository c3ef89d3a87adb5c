{{ config(enabled=capability('has_products')) }}

-- Seed 004's association rules antecedent → consequent (one product each) per basket kind ×
-- scope, from the frequent pairs in both directions: support = baskets with both / baskets of
-- the scope, confidence = support / antecedent_support, lift = confidence /
-- consequent_support. Kept when confidence ≥ association_min_confidence and lift ≥
-- association_min_lift (the pairs already passed the support thresholds); lift_rank orders an
-- antecedent's consequents by lift, ties by consequent code. Each ratio is one division of
-- exact integer counts, so equal lifts are equal doubles and ties rank the same on every run.
with directed as (
    select
        basket_kind,
        scope,
        product_code_a as antecedent_product_code,
        product_code_b as consequent_product_code,
        n_baskets,
        n_scope_baskets,
        support
    from {{ ref('int_association_pair_counts') }}
    union all
    select
        basket_kind,
        scope,
        product_code_b as antecedent_product_code,
        product_code_a as consequent_product_code,
        n_baskets,
        n_scope_baskets,
        support
    from {{ ref('int_association_pair_counts') }}
),

measured as (
    select
        directed.basket_kind,
        directed.scope,
        directed.antecedent_product_code,
        directed.consequent_product_code,
        directed.n_baskets,
        antecedent.support as antecedent_support,
        consequent.support as consequent_support,
        directed.support,
        cast(directed.n_baskets as double) / antecedent.n_baskets as confidence,
        cast(directed.n_baskets * directed.n_scope_baskets as double)
        / cast(antecedent.n_baskets * consequent.n_baskets as double) as lift
    from directed
    inner join {{ ref('int_association_item_supports') }} as antecedent
        on
            directed.basket_kind = antecedent.basket_kind
            and directed.scope = antecedent.scope
            and directed.antecedent_product_code = antecedent.product_code
    inner join {{ ref('int_association_item_supports') }} as consequent
        on
            directed.basket_kind = consequent.basket_kind
            and directed.scope = consequent.scope
            and directed.consequent_product_code = consequent.product_code
),

kept as (
    select *
    from measured
    where
        confidence >= {{ association_min_confidence() }}
        and lift >= {{ association_min_lift() }}
)

select
    basket_kind,
    scope,
    antecedent_product_code,
    consequent_product_code,
    cast(n_baskets as bigint) as n_baskets,
    antecedent_support,
    consequent_support,
    support,
    confidence,
    lift,
    cast(row_number() over (
        partition by basket_kind, scope, antecedent_product_code
        order by lift desc, consequent_product_code asc
    ) as integer) as lift_rank
from kept
