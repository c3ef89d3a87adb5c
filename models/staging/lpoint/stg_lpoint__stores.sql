with source as (
    select * from {{ source('lpoint', 'br') }}
)

select
    br_c as store_id,
    cop_c as affiliate_code,
    zon_hlv as region_code,
    zon_mcls as subregion_code
from source
