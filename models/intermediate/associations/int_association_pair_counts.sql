{{ config(enabled=capability('has_products')) }}

-- Frequent product pairs per basket kind × scope (apriori's second level, as mlxtend's apriori
-- with max_len=2): the baskets holding both products, counted only over frequent products, so
-- the self-join never sees the long tail. One row per unordered pair (product_code_a <
-- product_code_b); association_rules reads it in both directions.
with frequent_basket_items as (
    select
        items.basket_kind,
        items.scope,
        items.customer_id,
        items.basket_ref,
        items.product_code
    from {{ ref('int_association_basket_items') }} as items
    inner join {{ ref('int_association_item_supports') }} as supports
        on
            items.basket_kind = supports.basket_kind
            and items.scope = supports.scope
            and items.product_code = supports.product_code
    where supports.is_frequent
),

pair_baskets as (
    select
        item_a.basket_kind,
        item_a.scope,
        item_a.product_code as product_code_a,
        item_b.product_code as product_code_b,
        count(*) as n_baskets
    from frequent_basket_items as item_a
    inner join frequent_basket_items as item_b
        on
            item_a.basket_kind = item_b.basket_kind
            and item_a.scope = item_b.scope
            and item_a.customer_id = item_b.customer_id
            and item_a.basket_ref = item_b.basket_ref
            and item_a.product_code < item_b.product_code
    group by item_a.basket_kind, item_a.scope, item_a.product_code, item_b.product_code
),

pair_supports as (
    select
        pair_baskets.basket_kind,
        pair_baskets.scope,
        pair_baskets.product_code_a,
        pair_baskets.product_code_b,
        pair_baskets.n_baskets,
        supports.n_scope_baskets,
        cast(pair_baskets.n_baskets as double) / supports.n_scope_baskets as support
    from pair_baskets
    inner join {{ ref('int_association_item_supports') }} as supports
        on
            pair_baskets.basket_kind = supports.basket_kind
            and pair_baskets.scope = supports.scope
            and pair_baskets.product_code_a = supports.product_code
)

select *
from pair_supports
where
    support >= {{ association_min_support() }}
    and n_baskets >= {{ association_min_baskets() }}
