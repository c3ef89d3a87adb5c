-- Customer attributes of any dataset, long: one row per customer and attribute with a known
-- value (value_text for a categorical attribute, value_number for a numeric one), so any
-- dataset's attributes flow without a column per attribute. L.Point: gender, age_band (the
-- decade, a number) and region_code of the DEMO file; the generic contract: the mapping
-- config's attributes; CDNOW: none. int_customer_attribute_columns is the wide form the
-- Python models read; customer_360 picks L.Point's three by name.
{% if var('source', 'lpoint') == 'lpoint' %}
    with customers as (
        select * from {{ ref('stg_lpoint__customers') }}
    )

    select
        customer_id,
        'gender' as attribute,
        1 as attribute_position,
        gender as value_text,
        cast(null as double) as value_number
    from customers
    where gender is not null
    union all
    select
        customer_id,
        'age_band' as attribute,
        2 as attribute_position,
        cast(null as varchar) as value_text,
        cast(age_band as double) as value_number
    from customers
    where age_band is not null
    union all
    select
        customer_id,
        'region_code' as attribute,
        3 as attribute_position,
        region_code as value_text,
        cast(null as double) as value_number
    from customers
    where region_code is not null
{% elif var('source', 'lpoint') == 'retail' %}
    select
        customer_id,
        attribute,
        attribute_position,
        value_text,
        value_number
    from {{ ref('stg_retail__customer_attributes') }}
{% else %}
    select
        cast(null as varchar) as customer_id,
        cast(null as varchar) as attribute,
        cast(null as integer) as attribute_position,
        cast(null as varchar) as value_text,
        cast(null as double) as value_number
    where false
{% endif %}
