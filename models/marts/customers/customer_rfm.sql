-- Customer-grain RFM as of observation_end: the customer summary (int_customer_summary:
-- lifetimes summary, classic RFM inputs, L.Pay split, returns) with tie-aware quintile scores,
-- the RFM cell and seed 002's online spend grade. The L.Pay columns are null for a dataset
-- without a payment flag, the return columns for one without returns data.
with summary as (
    select * from {{ ref('int_customer_summary') }}
),

scored as (
    select
        *,
        -- 5 = most recent / most receipts / most spend; equal values share a score.
        {{ rank_bucket('days_since_last_purchase', 5, 'desc') }} as r_score,
        {{ rank_bucket('n_receipts', 5, 'asc') }} as f_score,
        {{ rank_bucket('total_spend', 5, 'asc') }} as m_score
    from summary
),

online_graded as (
    select
        customer_id,
        {{ rank_bucket('online_spend', 4, 'desc') }} as online_quartile
    from summary
    where online_spend > 0
)

select
    scored.customer_id,
    scored.first_purchase_date,
    scored.last_purchase_date,
    scored.frequency,
    scored.recency,
    scored.T,
    scored.monetary_value,
    scored.days_since_last_purchase,
    scored.n_purchase_days,
    scored.n_receipts,
    scored.total_spend,
    scored.r_score,
    scored.f_score,
    scored.m_score,
    'R' || scored.r_score || 'F' || scored.f_score || 'M' || scored.m_score as rfm_cell,
    scored.lpay_spend,
    scored.other_spend,
    scored.lpay_receipts,
    scored.lpay_payments,
    scored.online_spend,
    case online_graded.online_quartile
        when 1 then 'VIP' when 2 then 'G3' when 3 then 'G2' when 4 then 'G1'
    end as online_grade,
    scored.returned_lines,
    scored.returned_spend,
    scored.return_line_rate,
    scored.return_spend_share
from scored
left join online_graded using (customer_id)
