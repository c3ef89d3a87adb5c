{#- The plan back-test's figures over a group of int_plan_backtest rows (docs/actions.md,
    "Back-test"), shared by the plan_backtest mart and its model_metrics rows:
    window_hit_rate = pairs bought at their affiliate within the contact window / pairs;
    customer_window_hit_rate = customers with at least one such pair / customers;
    first_days_hit_rate = pairs bought at their affiliate in the window's number of days right
    after the cut (no timing: contact everyone at once) / pairs;
    after_cut_hit_rate = pairs bought at their affiliate any time after the cut / pairs;
    comparable_window_hit_rate = window_hit_rate over the comparable pairs (every arm has a
    product of the slot's kind); kind_eligible_share = pairs whose product is of the slot's kind. -#}
{% macro plan_backtest_aggregates() -%}
    count(distinct customer_id) as n_customers,
    count(*) as n_pairs,
    count(*) filter (where bought_in_window) as n_bought_in_window,
    avg(cast(bought_in_window as double)) as window_hit_rate,
    cast(count(distinct customer_id) filter (where bought_in_window) as double)
    / count(distinct customer_id) as customer_window_hit_rate,
    avg(cast(bought_in_first_days as double)) as first_days_hit_rate,
    avg(cast(bought_after_cut as double)) as after_cut_hit_rate,
    avg(cast(kind_eligible as double)) as kind_eligible_share,
    count(*) filter (where comparable) as n_comparable_pairs,
    avg(cast(bought_in_window as double)) filter (where comparable) as comparable_window_hit_rate
{%- endmacro %}
