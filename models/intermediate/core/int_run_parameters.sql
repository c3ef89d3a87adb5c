-- One row: the anchor dates of this build. observation_end is the var when set, otherwise
-- the last transaction date; every model reads it from here (macro observation_end()).
select
    '{{ var('dataset') }}' as dataset,
    {{ period_start() }} as period_start,
    {{ period_end() }} as period_end,
    {{ calibration_end() }} as calibration_end,
    {% if var('observation_end', none) %}
    date '{{ var('observation_end') }}'
    {% else %}
    (select max(purchase_date) from {{ ref('int_transactions') }})
    {% endif %} as observation_end,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as run_started_at,
    '{{ invocation_id }}' as invocation_id
