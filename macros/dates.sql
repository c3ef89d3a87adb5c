{#- Parse a YYYYMMDD text/integer column; the ingest step already rejected bad values. -#}
{% macro yyyymmdd_to_date(column) -%}
    cast(strptime(cast({{ column }} as varchar), '%Y%m%d') as date)
{%- endmacro %}

{#- Whole days from date a to date b (b - a). -#}
{% macro days_between(a, b) -%}
    date_diff('day', cast({{ a }} as date), cast({{ b }} as date))
{%- endmacro %}
