{#- Every row of the CTE `rows` with its copy_number: 1 for the first copy (lowest source_line) of
    an exact copy over `columns`, 2, 3 … for the later ones (what the quarantine ladder's
    duplicate_line reads). Equal to row_number() over (partition by the columns order by
    source_line) — nulls compare equal — but only the few rows that repeat are numbered:
    an aggregate finds them, so the millions of lines are hashed once instead of sorted with
    every column. source_line must identify a row. -#}
{% macro copy_numbers(rows, columns) -%}
    {%- set keys = [] -%}
    {%- set matches = [] -%}
    {%- for column in columns -%}
        {%- set _ = keys.append('r.' ~ column) -%}
        {%- set _ = matches.append('r.' ~ column ~ ' is not distinct from repeated.' ~ column) -%}
    {%- endfor -%}
    with repeated as (
        select {{ columns | join(', ') }}
        from {{ rows }}
        group by {{ columns | join(', ') }}
        having count(*) > 1
    ),

    numbered_repeats as (
        select
            r.source_line,
            row_number() over (partition by {{ keys | join(', ') }} order by r.source_line) as copy_number
        from {{ rows }} as r
        inner join repeated on {{ matches | join(' and ') }}
    )

    select
        {{ rows }}.*,
        coalesce(numbered_repeats.copy_number, 1) as copy_number
    from {{ rows }}
    left join numbered_repeats using (source_line)
{%- endmacro %}
