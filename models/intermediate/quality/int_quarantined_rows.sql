-- Input rows that parsed but were set aside, with the file line and the reason
-- (README "Bad input"). The build continues without them; `make demo` prints the counts.
{% set files = [
    ('LPOINT_BIG_COMP_02_PDDE.csv', 'stg_lpoint__purchase_lines', 'purchase_date', 'quantity'),
    ('LPOINT_BIG_COMP_03_COP_U.csv', 'stg_lpoint__service_uses', 'purchase_date', 'cast(null as integer)'),
    ('LPOINT_BIG_COMP_06_LPAY.csv', 'stg_lpoint__lpay_payments', 'payment_date', 'cast(null as integer)'),
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
    amount_krw,
    {{ quantity }} as quantity
from {{ ref(model_name) }}
where quarantine_reason is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
