{#- A source file with its line numbers. DuckDB's CSV scan keeps file order
    (preserve_insertion_order), so row_number() over () is the data row; +1 for the header
    gives the line an editor shows, which quarantine and error messages report. -#}
{% macro numbered_source(source_name, table_name) -%}
    select *, row_number() over () + 1 as source_line
    from {{ source(source_name, table_name) }}
{%- endmacro %}
