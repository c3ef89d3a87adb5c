{{ config(enabled=capability('has_products')) }}

-- Seed 004's recommendation list: per basket kind × scope × product, the association_top_n
-- consequents with the highest lift (association_rules' lift_rank), with both products' names
-- and top two category levels (int_products; null where the dataset has none).
select
    rules.basket_kind,
    rules.scope,
    rules.antecedent_product_code,
    antecedent.product_name as antecedent_product_name,
    antecedent.category_1 as antecedent_category_major,
    antecedent.category_2 as antecedent_category_middle,
    rules.lift_rank,
    rules.consequent_product_code,
    consequent.product_name as consequent_product_name,
    consequent.category_1 as consequent_category_major,
    consequent.category_2 as consequent_category_middle,
    rules.n_baskets,
    rules.support,
    rules.confidence,
    rules.lift
from {{ ref('association_rules') }} as rules
inner join {{ ref('int_products') }} as antecedent
    on rules.antecedent_product_code = antecedent.product_code
inner join {{ ref('int_products') }} as consequent
    on rules.consequent_product_code = consequent.product_code
where rules.lift_rank <= {{ association_top_n() }}
