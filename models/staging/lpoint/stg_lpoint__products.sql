with source as (
    select * from {{ source('lpoint', 'pd_clac') }}
)

select
    pd_c as product_code,
    pd_nm as product_name,
    clac_hlv_nm as category_major,
    clac_mcls_nm as category_middle
from source
