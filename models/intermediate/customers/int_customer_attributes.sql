-- Customer demographics for any dataset: the L.Point DEMO file, or no rows for CDNOW
-- (which has none). Python models ref this instead of an L.Point-only staging model.
{% if var('dataset', 'lpoint') == 'lpoint' %}
    select
        customer_id,
        gender,
        age_band,
        region_code
    from {{ ref('stg_lpoint__customers') }}
{% else %}
    select
        cast(null as varchar) as customer_id,
        cast(null as varchar) as gender,
        cast(null as integer) as age_band,
        cast(null as varchar) as region_code
    where false
{% endif %}
