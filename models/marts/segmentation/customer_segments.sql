-- Customer → KMeans segment with a rule-based name (seed 001 features; RFM+T+CLV on
-- CDNOW) and seed 004's tier, applied from the stored fit
-- (python_models/segmentation/int_customer_segments).
select
    customer_id,
    segment_id,
    segment_name,
    segmentation_model,
    segment_id_seed001,
    segment_name_seed001,
    segment_id_rfmtclv,
    segment_name_rfmtclv,
    tier,
    tier_score,
    recency_score,
    frequency_score,
    monetary_score,
    T_score as tenure_score,
    clv_score
from {{ ref('int_customer_segments') }}
