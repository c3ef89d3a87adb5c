-- What the next-best-action plan knows about each active customer at each plan cut
-- (docs/actions.md): segment, tier, last purchase, purchase rhythm, P(alive) and expected value.
--   plan_cut 'observation_end': the published plan (next_best_action) — the stored
--     segmentation, tiers and CLV fit, all on history up to observation_end;
--   plan_cut 'calibration_end' (datasets with products): the plan back-test — only history up
--     to calibration_end: the segment is the naming rules of docs/segmentation.md applied per
--     customer to z-scores of calibration-cut descriptors (the stored KMeans was fitted on the
--     whole history, so applying it here would leak), no tier (tiers too are fitted on the
--     whole history), P(alive) and CLV from the CLV model refitted at the cut
--     (int_clv_calibration_cut).
-- Active customer: a first purchase on or before the cut and a purchase within the
-- var nba_active_days (default 365) days up to and including it.
-- playbook_key: the crm_playbook row — 'dropped out' when P(alive) < var nba_dropout_p_alive
-- (default 0.5), else the segment's base name (segment_name up to a ", " or " #" qualifier).
with params as (
    select
        observation_end,
        calibration_end,
        cast({{ checked_number('nba_active_days', 365) }} as integer) as active_days,
        cast({{ checked_number('nba_dropout_p_alive', 0.5) }} as double) as dropout_p_alive
    from {{ ref('int_run_parameters') }}
),

published as (
    select
        'observation_end' as plan_cut,
        params.observation_end as cut_date,
        summary.customer_id,
        segments.segment_name,
        segments.tier,
        summary.last_purchase_date,
        summary.frequency,
        summary.recency,
        clv.p_alive,
        clv.clv_12m as expected_value
    from {{ ref('int_customer_summary') }} as summary
    cross join params
    left join {{ ref('int_customer_segments') }} as segments using (customer_id)
    left join {{ ref('int_clv_predictions') }} as clv using (customer_id)
    where summary.last_purchase_date > params.observation_end - params.active_days
),

{% if capability('has_products') %}
    cut_receipts as (
        select
            receipts.customer_id,
            count(*) as n_receipts,
            count(distinct receipts.purchase_date) as n_purchase_days,
            min(receipts.purchase_date) as first_purchase_date,
            max(receipts.purchase_date) as last_purchase_date,
            cast(sum(receipts.spend) as double) as total_spend,
            {% if capability('has_payment_flag') %}
                cast(coalesce(sum(receipts.spend) filter (where receipts.paid_with_lpay), 0) as double)
            {% else %}
                cast(null as double)
            {% endif %} as lpay_spend
        from {{ ref('int_receipts') }} as receipts
        where receipts.purchase_date <= (select params.calibration_end from params)
        group by receipts.customer_id
    ),

    -- naming.descriptors(): log receipts, log spend per receipt, log spend, days since the last
    -- purchase, L.Pay share of spend, tenure
    cut_descriptors as (
        select
            customer_id,
            first_purchase_date,
            last_purchase_date,
            n_purchase_days,
            ln(1 + n_receipts) as freq,
            ln(1 + greatest(total_spend / n_receipts, 0)) as ticket,
            ln(1 + greatest(total_spend, 0)) as spend_value,
            cast({{ days_between('last_purchase_date', '(select params.calibration_end from params)') }} as double)
                as lapse,
            lpay_spend / nullif(total_spend, 0) as lpay,
            cast({{ days_between('first_purchase_date', '(select params.calibration_end from params)') }} as double)
                as tenure
        from cut_receipts
    ),

    cut_z as (
        select
            customer_id,
            first_purchase_date,
            last_purchase_date,
            n_purchase_days,
            {% for d in ['freq', 'ticket', 'spend_value', 'lapse', 'lpay', 'tenure'] %}
                ({{ d }} - avg({{ d }}) over ()) / nullif(stddev_pop({{ d }}) over (), 0) as z_{{ d }}
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        from cut_descriptors
    ),

    -- the rules of segmentation.naming (_base_name, and the L.Pay names per customer instead of
    -- per segment); a missing z (no spread, no payment flag) matches no rule, as there
    cut_segments as (
        select
            customer_id,
            first_purchase_date,
            last_purchase_date,
            n_purchase_days,
            case
                when z_lpay >= 0.5 and z_spend_value >= 0.25 then 'L.Pay VIP'
                when z_lpay >= 0.5 then 'L.Pay regulars'
                when z_lapse >= 0.5 and z_freq <= 0 then 'at risk'
                when z_freq >= 0.5 and z_spend_value >= 0.5 then 'loyal high-spend'
                when z_freq >= 0.25 and z_ticket <= -0.25 then 'frequent low-spend'
                when z_freq <= -0.25 and z_ticket >= 0.25 then 'occasional big-ticket'
                when z_tenure <= -0.75 and z_lapse <= 0 then 'new customers'
                else
                    case when z_freq < -0.25 then 'low' when z_freq > 0.25 then 'high' else 'mid' end
                    || '-frequency '
                    || case when z_ticket < -0.25 then 'low' when z_ticket > 0.25 then 'high' else 'mid' end
                    || '-spend'
            end as segment_name
        from cut_z
    ),

    calibration as (
        select
            'calibration_end' as plan_cut,
            params.calibration_end as cut_date,
            cut_segments.customer_id,
            cut_segments.segment_name,
            cast(null as varchar) as tier,
            cut_segments.last_purchase_date,
            cast(cut_segments.n_purchase_days - 1 as double) as frequency,
            cast({{ days_between('cut_segments.first_purchase_date', 'cut_segments.last_purchase_date') }} as double)
                as recency,
            clv.p_alive,
            clv.clv_12m as expected_value
        from cut_segments
        cross join params
        left join {{ ref('int_clv_calibration_cut') }} as clv using (customer_id)
        where cut_segments.last_purchase_date > params.calibration_end - params.active_days
    ),
{% endif %}

states as (
    select * from published
    {% if capability('has_products') %}
        union all
        select * from calibration
    {% endif %}
)

select
    states.*,
    case
        when states.p_alive < (select params.dropout_p_alive from params) then 'dropped out'
        else trim(regexp_extract(states.segment_name, '^[^,#]*'))
    end as playbook_key
from states
