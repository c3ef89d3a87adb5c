{#- The settings of the association rules (dbt_project.yml vars association_*; docs/associations.md),
    checked: a number (whole if `whole`) ≥ `lowest` (> `lowest` if `strict`) and ≤ `highest`
    (either bound may be none), else a compile error naming the var. -#}
{% macro association_setting(name, lowest=none, highest=none, strict=false, whole=false) -%}
    {%- set value = checked_number(name, none) -%}
    {%- set number = value | float -%}
    {%- set too_low = lowest is not none and (number < lowest or (strict and number == lowest)) -%}
    {%- set too_high = highest is not none and number > highest -%}
    {%- set not_whole = whole and number != (number | int) -%}
    {%- if too_low or too_high or not_whole -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be " ~ ("a whole number" if whole else "a number")
            ~ (" > " if strict else " ≥ ") ~ lowest
            ~ (" and ≤ " ~ highest if highest is not none else "") ~ ", got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- SQL literals of the thresholds. min_support must be above 0: at 0 every pair that occurs
    together once would be counted, with no apriori pruning. -#}
{% macro association_min_support() -%}
    cast({{ association_setting('association_min_support', 0, 1, strict=true) }} as double)
{%- endmacro %}

{% macro association_min_baskets() -%}
    {{ association_setting('association_min_baskets', 1, whole=true) | int }}
{%- endmacro %}

{% macro association_min_confidence() -%}
    cast({{ association_setting('association_min_confidence', 0, 1) }} as double)
{%- endmacro %}

{% macro association_min_lift() -%}
    cast({{ association_setting('association_min_lift', 0) }} as double)
{%- endmacro %}

{% macro association_top_n() -%}
    {{ association_setting('association_top_n', 1, whole=true) | int }}
{%- endmacro %}
