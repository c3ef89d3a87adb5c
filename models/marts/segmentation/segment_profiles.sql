-- One row per segment of each segmentation model, in original units: size, share and the
-- members' mean RFM, spend split, tenure and CLV. Silhouette from the model's metrics.
-- Reads the intermediate models behind customer_segments, customer_rfm and customer_clv.
with assignments as (
    select
        customer_id,
        segmentation_model,
        segment_id,
        segment_name
    from {{ ref('int_customer_segments') }}
    union all
    select
        customer_id,
        'kmeans_rfmtclv_features' as segmentation_model,
        segment_id_rfmtclv as segment_id,
        segment_name_rfmtclv as segment_name
    from {{ ref('int_customer_segments') }}
    where
        segment_id_rfmtclv is not null
        and segmentation_model != 'kmeans_rfmtclv_features'
),

silhouettes as (
    select
        model_name as segmentation_model,
        value as silhouette
    from {{ ref('int_segmentation_metrics') }}
    where metric = 'silhouette' and split = 'full'
)

select
    assignments.segmentation_model,
    assignments.segment_id,
    any_value(assignments.segment_name) as segment_name,
    count(*) as n_customers,
    count(*) / sum(count(*)) over (partition by assignments.segmentation_model) as share,
    any_value(silhouettes.silhouette) as silhouette,
    avg(rfm.days_since_last_purchase) as mean_days_since_last_purchase,
    avg(rfm.n_receipts) as mean_receipts,
    avg(rfm.frequency) as mean_frequency,
    -- ordered: the last bits of a sum of fractions depend on the order it adds them in, and rows
    -- arrive in an order that differs between builds (money has cents in most currencies); the
    -- other means add whole numbers (exact)
    avg(rfm.monetary_value order by customer_id) as mean_monetary_value,
    avg(rfm.total_spend order by customer_id) as mean_total_spend,
    avg(rfm.lpay_spend order by customer_id) as mean_lpay_spend,
    avg(rfm.other_spend order by customer_id) as mean_other_spend,
    avg(case when rfm.lpay_payments > 0 then 1.0 else 0.0 end) as lpay_user_share,
    avg(rfm.T) as mean_tenure_days,
    avg(clv.clv_12m order by customer_id) as mean_clv_12m,
    avg(clv.p_alive order by customer_id) as mean_p_alive
from assignments
inner join {{ ref('int_customer_summary') }} as rfm using (customer_id)
inner join {{ ref('int_clv_predictions') }} as clv using (customer_id)
left join silhouettes using (segmentation_model)
group by assignments.segmentation_model, assignments.segment_id
