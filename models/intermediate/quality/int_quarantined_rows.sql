-- Input rows that parsed but were set aside, with the file line and the reason
-- (docs/bad_input.md). The build continues without them; `make demo` prints the counts.
{% set files = [
    ('LPOINT_BIG_COMP_02_PDDE.csv', 'int_purchase_lines_checked', 'purchase_date', 'quantity'),
    ('LPOINT_BIG_COMP_03_COP_U.csv', 'int_service_uses_checked', 'purchase_date', 'cast(null as integer)'),
    ('LPOINT_BIG_COMP_06_LPAY.csv', 'int_lpay_payments_checked', 'payment_date', 'cast(null as integer)'),
] %}
{% for file_name, model_name, date_column, quantity in files %}
    select
        '{{ file_name }}' as source_file,
        source_line,
        quarantine_reason,
        customer_id,
        receipt_id,
        affiliate_code,
        {{ date_column }} as event_date,
        spend,
        {{ quantity }} as quantity  -- noqa: AL09 (PDDE's column already has the name; the others need it)
    from {{ ref(model_name) }}
    where quarantine_reason is not null
    {% if not loop.last %}union all{% endif %}
{% endfor %}
