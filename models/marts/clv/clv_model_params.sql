-- Every fitted parameter of the CLV models, with log-likelihood, customers used and fit
-- seconds (python_models/clv/int_clv_params).
select
    model,
    parameter,
    value
from {{ ref('int_clv_params') }}
