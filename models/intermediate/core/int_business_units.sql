-- Every business unit (L.Point: affiliate) with its display name and kind: the affiliates seed
-- (L.Point's codes, CDNOW, and ONE unit 'ALL' for generic data without business units) and,
-- for the generic contract with a business_unit column, the dataset's own units (retail, no
-- display name).
select
    affiliate_code,
    affiliate_name,
    affiliate_kind
from {{ ref('affiliates') }}
{% if var('source', 'lpoint') == 'retail' and capability('has_business_units') %}
    union all
    select distinct
        transactions.affiliate_code,
        cast(null as varchar) as affiliate_name,
        'retail' as affiliate_kind
    from {{ ref('int_transactions') }} as transactions
    where transactions.affiliate_code not in (select seeded.affiliate_code from {{ ref('affiliates') }} as seeded)
{% endif %}
