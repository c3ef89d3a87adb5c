{{ config(materialized='table') }}

-- Customer attributes wide: one row per customer with a known attribute, one column per
-- attribute (varchar for a categorical one, double for a numeric one) in the dataset's order.
-- The `customers` frame the Python models read (segmentation, recommenders): customer_id +
-- whatever attributes the dataset has. The columns are found at run time from the long
-- int_customer_attributes; without attributes (CDNOW, Online Retail) only customer_id, no rows.
{%- set attributes = [] -%}
{%- if execute -%}
    {%- set found = run_query(
        "select attribute, bool_or(value_number is not null) as is_number from "
        ~ ref('int_customer_attributes') ~ " group by attribute order by min(attribute_position), attribute"
    ) -%}
    {%- set attributes = found.rows -%}
{%- endif %}

select  -- noqa: LT09
    customer_id{% for attribute, is_number in attributes %},
    max({{ 'value_number' if is_number else 'value_text' }}) filter (
        where attribute = {{ sql_string(attribute) }}
    ) as {{ adapter.quote(attribute) }}
    {%- endfor %}
from {{ ref('int_customer_attributes') }}
group by customer_id
