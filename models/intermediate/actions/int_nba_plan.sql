-- The next-best-action plan of each active customer at each plan cut (int_nba_customer_states):
-- the logic next_best_action publishes (plan_cut observation_end) and the plan back-test
-- replays (plan_cut calibration_end), declared once. docs/actions.md explains every rule:
--   action      crm_playbook row of the playbook_key; its L.Pay variant when the dataset has a
--               payment flag and the row has one;
--   window      contact_start_date = the first of (clamped to the day after the cut):
--               dropped out -> the day after the cut; else the earliest expected_next_date
--               (timing model) of the plan's replenishment products, else of the customer's 3
--               products with the highest p_buy_30d, else of their 3 such major categories,
--               else last purchase + the customer's mean days between purchase days
--               (recency / frequency), else the day after the cut;
--               contact_end_date = start + var nba_contact_window_days (default 14) - 1;
--   suppression suppressed (reason just_bought) when the last purchase is fewer than
--               var nba_wait_days (default 3) days before the cut: wait, re-plan next release;
--   priority    priority_score = expected_value (CLV 12 months, already weighted by P(alive));
--               priority_rank / action_rank = 1.. by priority_score desc, customer_id, over the
--               customers not suppressed (all actions / within the action).
with params as (
    select
        cast({{ checked_number('nba_wait_days', 3) }} as integer) as wait_days,
        cast({{ checked_number('nba_contact_window_days', 14) }} as integer) as window_days
    from {{ ref('int_run_parameters') }}
),

states as (
    select * from {{ ref('int_nba_customer_states') }}
),

{% if capability('has_products') %}
    timing as (
        select
            'observation_end' as plan_cut,
            customer_id,
            item_level,
            item_id,
            p_buy_30d,
            expected_next_date
        from {{ ref('repurchase_timing') }}
        union all
        select
            'calibration_end' as plan_cut,
            customer_id,
            item_level,
            item_id,
            cast(p_buy_30d as double) as p_buy_30d,
            cast(expected_next_date as date) as expected_next_date
        from {{ ref('int_repurchase_timing_calibration') }}
    ),

    recommended_due as (
        select
            products.plan_cut,
            products.customer_id,
            min(timing.expected_next_date) as due_date
        from {{ ref('int_nba_plan_products') }} as products
        inner join timing
            on
                products.plan_cut = timing.plan_cut
                and products.customer_id = timing.customer_id
                and timing.item_level = 'product'
                and products.product_code = timing.item_id
        where products.recommendation_kind = 'replenishment'
        group by products.plan_cut, products.customer_id
    ),

    top_items as (
        select *
        from timing
        qualify row_number() over (
            partition by plan_cut, customer_id, item_level
            order by p_buy_30d desc nulls last, expected_next_date asc, item_id asc
        ) <= 3
    ),

    items_due as (
        select
            plan_cut,
            customer_id,
            min(expected_next_date) filter (where item_level = 'product') as product_due_date,
            min(expected_next_date) filter (where item_level = 'category') as category_due_date
        from top_items
        group by plan_cut, customer_id
    ),
{% endif %}

candidates as (
    select
        states.*,
        states.cut_date + 1 as next_day,
        states.playbook_key = 'dropped out' as is_dropped_out,
        {% if capability('has_products') %}
            recommended_due.due_date as recommended_due_date,
            items_due.product_due_date,
            items_due.category_due_date,
        {% else %}
            cast(null as date) as recommended_due_date,
            cast(null as date) as product_due_date,
            cast(null as date) as category_due_date,
        {% endif %}
        case
            when states.frequency > 0
                then states.last_purchase_date + cast(round(states.recency / states.frequency) as integer)
        end as rhythm_due_date
    from states
    {% if capability('has_products') %}
        left join recommended_due using (plan_cut, customer_id)  -- noqa: ST11
        left join items_due using (plan_cut, customer_id)  -- noqa: ST11
    {% endif %}
),

windows as (
    select
        *,
        case
            when is_dropped_out then 'dropped_out'
            when recommended_due_date is not null then 'recommended_replenishment'
            when product_due_date is not null then 'top_repurchase_products'
            when category_due_date is not null then 'top_repurchase_categories'
            when rhythm_due_date is not null then 'purchase_rhythm'
            else 'next_day'
        end as contact_window_source,
        greatest(
            next_day,
            case
                when is_dropped_out then next_day
                else coalesce(recommended_due_date, product_due_date, category_due_date, rhythm_due_date, next_day)
            end
        ) as contact_start_date
    from candidates
),

planned as (
    select
        windows.plan_cut,
        windows.cut_date,
        windows.customer_id,
        windows.segment_name,
        windows.tier,
        windows.playbook_key,
        playbook.objective,
        {% if capability('has_payment_flag') %}
            coalesce(playbook.lpay_action, playbook.action) as action,
            case when playbook.lpay_action is not null then playbook.lpay_offer_type else playbook.offer_type end
                as offer_type,
            case when playbook.lpay_action is not null then playbook.lpay_offer_example else playbook.offer_example end
                as offer_example,
        {% else %}
            playbook.action,
            playbook.offer_type,
            playbook.offer_example,
        {% endif %}
        playbook.product_focus,
        windows.contact_window_source,
        windows.contact_start_date,
        windows.contact_start_date + (select params.window_days - 1 from params) as contact_end_date,
        windows.last_purchase_date,
        cast({{ days_between('windows.last_purchase_date', 'windows.cut_date') }} as integer)
            as days_since_last_purchase,
        windows.p_alive,
        windows.expected_value,
        {{ days_between('windows.last_purchase_date', 'windows.cut_date') }}
        < (select params.wait_days from params) as suppressed
    from windows
    left join {{ ref('crm_playbook') }} as playbook using (playbook_key)
)

select
    *,
    case when suppressed then 'just_bought' end as suppression_reason,
    coalesce(expected_value, 0) as priority_score,
    case
        when not suppressed
            then cast(row_number() over (
                partition by plan_cut, suppressed
                order by coalesce(expected_value, 0) desc, customer_id
            ) as integer)
    end as priority_rank,
    case
        when not suppressed
            then cast(row_number() over (
                partition by plan_cut, suppressed, action
                order by coalesce(expected_value, 0) desc, customer_id
            ) as integer)
    end as action_rank
from planned
