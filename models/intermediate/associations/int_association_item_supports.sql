{{ config(enabled=capability('has_products')) }}

-- Every product's support per basket kind × scope: the baskets holding it, the baskets of the
-- scope and their ratio. is_frequent: the product passes the thresholds on its own, which a
-- pair needs before it can (a pair is in no more baskets than either of its products: apriori).
-- basket_items is read twice: as a CTE DuckDB computes the view once.
with basket_items as (
    select * from {{ ref('int_association_basket_items') }}
),

scope_baskets as (
    select
        basket_kind,
        scope,
        count(*) as n_scope_baskets
    from (
        select distinct
            basket_kind,
            scope,
            customer_id,
            basket_ref
        from basket_items
    ) as baskets
    group by basket_kind, scope
),

item_baskets as (
    select
        basket_kind,
        scope,
        product_code,
        count(*) as n_baskets
    from basket_items
    group by basket_kind, scope, product_code
),

supports as (
    select
        item_baskets.basket_kind,
        item_baskets.scope,
        item_baskets.product_code,
        item_baskets.n_baskets,
        scope_baskets.n_scope_baskets,
        cast(item_baskets.n_baskets as double) / scope_baskets.n_scope_baskets as support
    from item_baskets
    inner join scope_baskets using (basket_kind, scope)
)

select
    *,
    support >= {{ association_min_support() }}
    and n_baskets >= {{ association_min_baskets() }} as is_frequent
from supports
