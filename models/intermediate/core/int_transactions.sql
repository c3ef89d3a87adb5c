{{ config(materialized="view") }}
-- A view: every consumer filters it differently and DuckDB recomputes the union and
-- the L.Pay join faster than it writes and re-reads 4.8M rows.

-- The canonical spend events every feature model reads (docs/architecture.md): each input
-- format (dbt source) is an adapter onto these columns.
-- L.Point: a PDDE line or a COP_U row is spend; L.Pay rows only flag the receipt they paid.
-- CDNOW: each transaction line. The generic contract (retail): each clean purchase line
-- (returns are in int_returns); paid_with_lpay is the config's payment flag, null without one.
-- Quarantined rows never reach this model. spend is money, DECIMAL(18,4): sums are exact, so
-- every build adds cents to the same totals whatever order the threads add them in.
{% if var('source', 'lpoint') == 'lpoint' %}

    with lpay_paid_receipts as (
        select distinct
            customer_id,
            receipt_id
        from {{ ref('int_lpay_payments_checked') }}
        where
            quarantine_reason is null
            and not is_outside_affiliates
    ),

    purchase_lines as (
        select
            purchase_line_id as transaction_line_id,
            'lpoint_pdde' as source_system,
            customer_id,
            receipt_id,
            affiliate_code,
            channel,
            store_id,
            product_code,
            purchased_at,
            purchase_date,
            spend,
            quantity
        from {{ ref('int_purchase_lines_checked') }}
        where quarantine_reason is null
    ),

    service_uses as (
        select
            service_use_id as transaction_line_id,
            'lpoint_cop_u' as source_system,
            customer_id,
            receipt_id,
            affiliate_code,
            channel,
            store_id,
            cast(null as varchar) as product_code,
            purchased_at,
            purchase_date,
            spend,
            1 as quantity
        from {{ ref('int_service_uses_checked') }}
        where quarantine_reason is null
    ),

    spend_events as (
        select * from purchase_lines
        union all
        select * from service_uses
    )

    select
        spend_events.*,
        lpay_paid_receipts.receipt_id is not null as paid_with_lpay
    from spend_events
    left join lpay_paid_receipts using (customer_id, receipt_id)

{% elif var('source', 'lpoint') == 'retail' %}

    select
        transaction_line_id,
        'retail' as source_system,
        customer_id,
        receipt_id,
        affiliate_code,
        channel,
        store_id,
        product_code,
        purchased_at,
        purchase_date,
        spend,
        quantity,
        {% if capability('has_payment_flag') %}
            paid_with_flag as paid_with_lpay
        {% else %}
            cast(null as boolean) as paid_with_lpay
        {% endif %}
    from {{ ref('int_retail_lines_checked') }}
    where quarantine_reason is null and line_kind = 'purchase'

{% else %}

    select
        transaction_line_id,
        'cdnow' as source_system,
        customer_id,
        receipt_id,
        'CDNOW' as affiliate_code,
        'offline' as channel,
        cast(null as varchar) as store_id,
        cast(null as varchar) as product_code,
        purchased_at,
        purchase_date,
        cast(amount_usd as decimal(18, 4)) as spend,
        quantity,
        cast(null as boolean) as paid_with_lpay
    from {{ ref('stg_cdnow__transactions') }}

{% endif %}
