-- Reliability of purchase_probability on the reported split: per model, recommendation kind
-- and probability bin, the listed recommendations (top-N of the models fitted up to
-- calibration_end), their mean predicted probability and the share bought at that affiliate
-- after calibration_end (int_recommendation_reliability, calibrated rows).
select
    reliability.model_name,
    reliability.recommendation_kind,
    cast(reliability.bin as integer) as bin,
    cast(reliability.bin_lower as double) as bin_lower,
    cast(reliability.bin_upper as double) as bin_upper,
    cast(reliability.n as bigint) as n,
    cast(reliability.mean_probability as double) as mean_probability,
    cast(reliability.observed_rate as double) as observed_rate,
    champions.model_name is not null as is_champion
from {{ ref('int_recommendation_reliability') }} as reliability
left join {{ ref('int_recommendation_champions') }} as champions
    on
        reliability.model_name = champions.model_name
        and reliability.recommendation_kind = champions.recommendation_kind
where reliability.probability_source = 'calibrated'
