-- One row per customer with a purchase: RFM, segment, tier, CLV and P(alive) side by side,
-- plus demographics where the dataset has them.
select
    rfm.customer_id,
    attributes.gender,
    attributes.age_band,
    attributes.region_code,
    rfm.first_purchase_date,
    rfm.last_purchase_date,
    rfm.days_since_last_purchase,
    rfm.n_receipts,
    rfm.total_spend,
    rfm.frequency,
    rfm.recency,
    rfm.T,
    rfm.monetary_value,
    rfm.rfm_cell,
    rfm.lpay_spend,
    rfm.other_spend,
    rfm.online_grade,
    segments.segment_id,
    segments.segment_name,
    segments.tier,
    clv.p_alive,
    clv.expected_purchases_90d,
    clv.expected_purchases_365d,
    clv.expected_avg_spend,
    clv.clv_12m
from {{ ref('customer_rfm') }} as rfm
left join {{ ref('int_customer_attributes') }} as attributes using (customer_id)
left join {{ ref('customer_segments') }} as segments using (customer_id)
left join {{ ref('customer_clv') }} as clv using (customer_id)
