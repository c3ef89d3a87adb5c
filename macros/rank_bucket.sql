{#- Tie-aware equal-frequency bucket 1..n over the whole table: rows with equal values
    always share a bucket (ntile would split ties arbitrarily, making scores unstable).
    Bucket 1 holds the first rows in `order` ('asc' or 'desc'). -#}
{% macro rank_bucket(expression, n_buckets, order='asc', partition_by=none) -%}
    cast(1 + floor(
        {{ n_buckets }}.0 * (rank() over ({% if partition_by %}partition by {{ partition_by }} {% endif %}order by {{ expression }} {{ order }}) - 1)
        / count(*) over ({% if partition_by %}partition by {{ partition_by }}{% endif %})
    ) as integer)
{%- endmacro %}
