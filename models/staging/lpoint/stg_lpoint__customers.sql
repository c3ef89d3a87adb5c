with source as (
    select * from {{ source('lpoint', 'demo') }}
)

select
    cust as customer_id,
    case ma_fem_dv when '여성' then 'female' when '남성' then 'male' end as gender,
    cast(replace(ages, '대', '') as integer) as age_band,
    zon_hlv as region_code
from source
