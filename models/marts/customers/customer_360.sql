-- One row per customer with a purchase: RFM, segment, tier, CLV and P(alive) side by side,
-- plus L.Point's demographics (attributes gender, age_band, region_code; null where a dataset
-- has no attribute of that name) and the returns (null without returns data). A dataset's
-- other attributes are in intermediate.int_customer_attributes.
with attributes as (
    select
        customer_id,
        max(value_text) filter (where attribute = 'gender') as gender,
        cast(max(value_number) filter (where attribute = 'age_band') as integer) as age_band,
        max(value_text) filter (where attribute = 'region_code') as region_code
    from {{ ref('int_customer_attributes') }}
    where attribute in ('gender', 'age_band', 'region_code')
    group by customer_id
)

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
    clv.clv_12m,
    rfm.return_line_rate,
    rfm.return_spend_share
from {{ ref('customer_rfm') }} as rfm
left join attributes using (customer_id)
left join {{ ref('customer_segments') }} as segments using (customer_id)
left join {{ ref('customer_clv') }} as clv using (customer_id)
