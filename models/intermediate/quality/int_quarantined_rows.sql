-- Input rows that parsed but were set aside, with the file line and the reason
-- (docs/bad_input.md). The build continues without them; `make demo` prints the counts.
-- spend is the amount as in the file (a return line's own sign kept); quantity likewise.
{% if var('source', 'lpoint') == 'lpoint' %}
    {% set files = [
        ("'LPOINT_BIG_COMP_02_PDDE.csv'", 'int_purchase_lines_checked', 'purchase_date', 'quantity', 'amount'),
        ("'LPOINT_BIG_COMP_03_COP_U.csv'", 'int_service_uses_checked', 'purchase_date', 'cast(null as integer)', 'amount'),
        ("'LPOINT_BIG_COMP_06_LPAY.csv'", 'int_lpay_payments_checked', 'payment_date', 'cast(null as integer)', 'amount'),
    ] %}
{% elif var('source', 'lpoint') == 'retail' %}
    {% set files = [
        ('source_file', 'int_retail_lines_checked', 'purchase_date', 'line_quantity', 'cast(line_amount as double)'),
    ] %}
{% else %}
    {% set files = [] %}
{% endif %}
{% for file_name, model_name, date_column, quantity, amount in files %}
    select
        {{ file_name }} as source_file,
        source_line,
        quarantine_reason,
        customer_id,
        receipt_id,
        affiliate_code,
        {{ date_column }} as event_date,
        {{ amount }} as spend,
        {{ quantity }} as quantity  -- noqa: AL09 (PDDE's column already has the name; the others need it)
    from {{ ref(model_name) }}
    where quarantine_reason is not null
    {% if not loop.last %}union all{% endif %}
{% else %}
    -- CDNOW: nothing is quarantined (the published log is checked whole by ingest)
    select
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_line,
        cast(null as varchar) as quarantine_reason,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as receipt_id,
        cast(null as varchar) as affiliate_code,
        cast(null as date) as event_date,
        cast(null as double) as spend,
        cast(null as integer) as quantity
    where false
{% endfor %}
