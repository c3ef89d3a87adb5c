"""Tiny (or large) synthetic marts that satisfy every validation rule (the marts' dbt yml
and suites.py): for tests of validation and publishing, and for timing the checkpoint at
~1M rows without a full dbt build.

    build_synthetic_marts("tmp/warehouse.duckdb", n_customers=50)

Every mart has all the columns of its dbt contract. Customer i bought
`products_per_customer` products (alternating affiliates A01/A02); the recommendations
are products it never bought (kind new_to_customer); every customer has a segment, a tier and a CLV row;
segments 0..2 exist in segment_profiles; products are in intermediate.int_products.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def build_synthetic_marts(
    path: str | Path,
    *,
    n_customers: int = 50,
    products_per_customer: int = 4,
    n_recs: int = 3,
    n_products: int = 200,
    with_transactions: bool = True,
    tag: int = 0,
) -> Path:
    """(Re)create schemas ``marts``, ``staging`` (products) and ``intermediate``
    (``int_transactions``) in `path`."""
    if n_products < products_per_customer + n_recs:
        raise ValueError("n_products must be >= products_per_customer + n_recs")
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        _build(
            con,
            n=n_customers,
            per=products_per_customer,
            recs=n_recs,
            np_=n_products,
            with_transactions=with_transactions,
            tag=tag,
        )
    finally:
        con.close()
    return path


def _build(con, *, n, per, recs, np_, with_transactions, tag):
    q = con.execute
    for schema in ("marts", "intermediate", "staging"):
        q(f"drop schema if exists {schema} cascade")
        q(f"create schema {schema}")
    q(f"create temp table cust as select i, printf('M%09d', i) as customer_id from range({n}) t(i)")
    q(f"""create table intermediate.int_products as
          select printf('PD%04d', p) as product_code, 'product ' || p as product_name,
                 'major' || (p % 5) as category_major, 'middle' || (p % 17) as category_middle
          from range({np_}) t(p)""")
    q(f"""create temp table bought as
          select c.i, c.customer_id, 'A0' || (1 + j % 2) as affiliate_code,
                 printf('PD%04d', (c.i + j) % {np_}) as product_code, j
          from cust c, range({per}) r(j)""")
    if with_transactions:
        q("""create table intermediate.int_transactions as
              select customer_id, affiliate_code, product_code, 10.0 as amount from bought""")
    _customer_marts(q, tag)
    _preference_marts(q)
    _session_marts(q)
    _segment_marts(q)
    _clv_marts(q)
    q("""create table marts.customer_360 as
          select r.customer_id, ['female', 'male'][1 + r.n_receipts % 2] as gender,
                 (20 + 10 * (r.n_receipts % 5))::integer as age_band, 'Z' || (r.n_receipts % 3) as region_code,
                 r.first_purchase_date, r.last_purchase_date, r.days_since_last_purchase, r.n_receipts,
                 r.total_spend, r.frequency, r.recency, r.T, r.monetary_value, r.rfm_cell, r.lpay_spend,
                 r.other_spend, r.online_grade, s.segment_id, s.segment_name, s.tier, v.p_alive,
                 v.expected_purchases_90d, v.expected_purchases_365d, v.expected_avg_spend, v.clv_12m,
                 r.return_line_rate, r.return_spend_share
          from marts.customer_rfm r join marts.customer_segments s using (customer_id)
          join marts.customer_clv v using (customer_id)""")
    _recommendation_marts(q, per=per, recs=recs, np_=np_)
    q("""create table marts.model_metrics as
          select model_name, metric, k, split, value, timestamp '2022-01-01 00:00:00' as evaluated_at,
                 'lpoint' as dataset
          from (values
            ('neural_preference', 'hr', 5, 'holdout', 0.41),
            ('neural_preference', 'ndcg', 5, 'holdout', 0.29),
            ('popularity', 'hr', 5, 'holdout', 0.30),
            ('bg_nbd', 'mae_purchases', null, 'holdout', 0.8)) t(model_name, metric, k, split, value)""")


def _customer_marts(q, tag):
    q(f"""create table marts.customer_rfm as
          select customer_id, date '2021-01-01' + (i % 60)::integer as first_purchase_date,
                 date '2021-01-01' + (i % 60 + i % 30)::integer as last_purchase_date,
                 (i % 7)::double as frequency, (i % 30)::double as recency,
                 (30 + i % 50)::double as T, (i % 7 > 0)::int * (10.0 + i % 13) as monetary_value,
                 (i % 20)::bigint as days_since_last_purchase, (1 + i % 7)::bigint as n_purchase_days,
                 (1 + i % 7)::bigint as n_receipts, (100.0 + i) as total_spend,
                 (1 + i % 5)::integer as r_score, (1 + (i // 5) % 5)::integer as f_score,
                 (1 + (i // 25) % 5)::integer as m_score,
                 'R' || (1 + i % 5) || 'F' || (1 + (i // 5) % 5) || 'M' || (1 + (i // 25) % 5) as rfm_cell,
                 (i % 3) * 10.0 as lpay_spend, 100.0 + i - (i % 3) * 10.0 as other_spend,
                 (i % 3)::bigint as lpay_receipts, (i % 3 + i % 2)::bigint as lpay_payments,
                 (i % 4) * 5.0 as online_spend,
                 ['VIP', 'G3', 'G2', 'G1', null][1 + i % 5] as online_grade,
                 -- L.Point records no returns: the return columns are null
                 null::bigint as returned_lines, null::double as returned_spend,
                 null::double as return_line_rate, null::double as return_spend_share,
                 {tag}::integer as build_tag
          from cust""")
    q("""create table marts.customer_cohorts as
          select date '2021-01-01' + to_months(c) as cohort_month, s::integer as months_since_first,
                 50::bigint as cohort_size, (50 - s)::bigint as active_customers,
                 (50 - s) / 50.0 as retention_rate, 1000.0 * (12 - s) as spend,
                 100.0 * (s + 1) as cumulative_spend_per_customer
          from range(12) a(c), range(12) b(s) where c + s < 12""")


def _preference_marts(q):
    q("""create table marts.customer_product_preference as
          select affiliate_code, customer_id, product_code, 'major' || (j % 5) as category_major,
                 (1 + j)::bigint as n_purchases, (1 + j)::bigint as n_purchase_days,
                 date '2021-02-01' as first_purchase_date, date '2021-02-01' + j::integer as last_purchase_date,
                 case when j > 0 then 7.0 * j end as own_mean_interval_days, 7.0 + j as mean_interval_days,
                 j = 0 as interval_is_fallback, 0.25 as category_share, 0.5 * j as interval_ratio,
                 (j % 6)::integer as buy_level, ((j + 1) % 6)::integer as category_level,
                 ((j + 2) % 6)::integer as interval_level,
                 round(((j % 6) + ((j + 1) % 6) + ((j + 2) % 6)) / 3.0, 3) as preference_score
          from bought""")
    q("""create table marts.preference_score_backtest as
          select a.affiliate_code, t.th / 2.0 as threshold, (100 - t.th * 5)::bigint as n_pairs,
                 (10 + t.th)::bigint as n_repurchased, (10 + t.th) / (100 - t.th * 5) as repurchase_rate
          from (values ('A01'), ('A02')) a(affiliate_code), range(10) t(th)""")


def _session_marts(q):
    q("""create table marts.customer_sessions as
          select 'S' || customer_id as session_id, customer_id, 'A01' as affiliate_code,
                 case when i % 4 = 0 then 'online' else 'offline' end as channel,
                 timestamp '2021-03-01 10:00:00' + to_hours(i % 1000) as session_start,
                 cast(timestamp '2021-03-01 10:00:00' + to_hours(i % 1000) as date) as session_date,
                 (1 + i % 3)::bigint as n_lines, (1 + i % 5)::bigint as n_units, 10.0 + i % 50 as spend,
                 (1 + i % 3)::bigint as n_products, 1::bigint as n_categories, 'major0' as categories,
                 i % 2 = 0 as paid_with_lpay
          from cust""")
    q("""create table marts.customer_session_sequences as
          select customer_id, row_number() over (partition by customer_id order by session_start) as session_index,
                 session_id, session_start, affiliate_code, channel, ['PD0001', 'PD0002'] as product_codes,
                 ['major0'] as category_majors, n_units, spend, null::double as days_since_previous_session
          from marts.customer_sessions""")


def _segment_marts(q):
    names = "['L.Pay VIP', 'frequent low-spend', 'at risk']"
    q(f"""create table marts.segment_centroids as
          select 'kmeans_seed001_features' as segmentation_model, segment_id, {names}[segment_id + 1] as segment_name,
                 feature, true as is_cluster_feature, feature = 'n_receipts' as log_transformed,
                 1.0 + segment_id as centroid_original, 0.5 * segment_id as centroid_scaled,
                 1.0 as scaler_mean, 2.0 as scaler_scale, 1.0 + segment_id as member_mean,
                 1.0 + segment_id as member_median
          from range(3) s(segment_id), (values ('recency'), ('n_receipts')) f(feature)""")
    q(f"""create table marts.segment_profiles as
          select 'kmeans_seed001_features' as segmentation_model, segment_id, {names}[segment_id + 1] as segment_name,
                 (select count(*) from cust where i % 3 = segment_id)::bigint as n_customers,
                 (select count(*) from cust where i % 3 = segment_id) / (select count(*) from cust) as share,
                 0.4 as silhouette, 10.0 as mean_days_since_last_purchase, 3.0 as mean_receipts,
                 2.0 as mean_frequency, 20.0 as mean_monetary_value, 150.0 as mean_total_spend,
                 10.0 as mean_lpay_spend, 140.0 as mean_other_spend, 0.5 as lpay_user_share,
                 200.0 as mean_tenure_days, 90.0 as mean_clv_12m, 0.7 as mean_p_alive
          from range(3) s(segment_id)""")
    q(f"""create table marts.customer_segments as
          select customer_id, (i % 3)::bigint as segment_id, {names}[i % 3 + 1] as segment_name,
                 'kmeans_seed001_features' as segmentation_model,
                 (i % 3)::bigint as segment_id_seed001, {names}[i % 3 + 1] as segment_name_seed001,
                 (i % 2)::bigint as segment_id_rfmtclv, ['low', 'high'][i % 2 + 1] as segment_name_rfmtclv,
                 ['VIP', 'Gold', 'Silver', 'Bronze', 'At Risk'][i % 5 + 1] as tier,
                 1.0 + (i % 4) as tier_score, (1 + i % 4)::bigint as recency_score,
                 (1 + i % 4)::bigint as frequency_score, (1 + i % 4)::bigint as monetary_score,
                 (1 + i % 4)::bigint as tenure_score, (1 + i % 4)::bigint as clv_score
          from cust""")


def _clv_marts(q):
    q("""create table marts.customer_clv as
          select customer_id, 'bgnbd' as transaction_model, (i % 100) / 100.0 as p_alive,
                 (i % 10) / 10.0 as expected_purchases_30d, (i % 10) / 4.0 as expected_purchases_90d,
                 (i % 10) / 2.0 as expected_purchases_180d, (i % 10)::double as expected_purchases_365d,
                 20.0 + i % 9 as expected_avg_spend, (i % 10) * 2.0 as clv_1m,
                 (i % 10) * 5.0 as clv_3m, (i % 10) * 9.0 as clv_6m, (i % 10) * 16.0 as clv_12m
          from cust""")
    q("""create table marts.clv_model_params as
          select * from (values ('bg_nbd', 'r', 0.2426), ('bg_nbd', 'alpha', 30.895),
                                ('bg_nbd', 'a', 0.7929), ('bg_nbd', 'b', 2.4259),
                                ('bg_nbd', 'log_likelihood', null),
                                ('gamma_gamma', 'p', 6.2496), ('gamma_gamma', 'q', 3.7442),
                                ('gamma_gamma', 'v', 15.4435)) t(model, parameter, value)""")


def _recommendation_marts(q, *, per, recs, np_):
    # products the customer never bought: kind new_to_customer, from the kind's champion
    q(f"""create table marts.product_recommendations as
          select x.customer_id, 'A01' as affiliate_code, 'neural_preference' as model_name,
                 'new_to_customer' as recommendation_kind,
                 (x.r + 1)::integer as rank, p.product_code, p.product_name, p.category_major, p.category_middle,
                 0.3 - x.r * 0.01 as purchase_probability, 5.0 - x.r * 0.1 as score, true as is_champion,
                 'popular in your segment (#' || (x.r + 1) || ')' as reason,
                 'v1' as model_version, timestamp '2022-01-01 00:00:00' as generated_at
          from (select c.customer_id, r, printf('PD%04d', (c.i + {per} + r) % {np_}) as product_code
                from cust c, range({recs}) t(r)) x
          join intermediate.int_products p using (product_code)""")
    q("""create table marts.champion_recommendations as
          select customer_id, affiliate_code, recommendation_kind, rank, product_code, product_name, category_major,
                 category_middle, purchase_probability, score, reason, model_name, model_version, generated_at
          from marts.product_recommendations where is_champion""")
    q("""create table marts.recommendation_champions as
          select 'new_to_customer' as recommendation_kind, 'neural_preference' as model_name,
                 0.31 as selection_ndcg_10, 40::bigint as selection_n_units, 0.29 as reported_ndcg_10,
                 42::bigint as reported_n_units, 'neural_preference' as reported_best_model_name,
                 0.29 as reported_best_ndcg_10, date '2021-06-30' as selection_end,
                 date '2021-09-30' as calibration_end, date '2021-12-31' as observation_end""")
    q("""create table marts.recommendation_calibration as
          select 'neural_preference' as model_name, 'new_to_customer' as recommendation_kind, (b + 1)::integer as bin,
                 b / 10.0 as bin_lower, (b + 1) / 10.0 as bin_upper, (100 - 10 * b)::bigint as n,
                 b / 10.0 + 0.05 as mean_probability, b / 10.0 + 0.04 as observed_rate, true as is_champion
          from range(4) t(b)""")
    q("""create table marts.affiliate_preferences as
          select customer_id, 'A01' as affiliate_code, 3::bigint as n_receipts, 60.0 as spend,
                 0.6 as purchase_share, 0.7 as spend_share from cust
          union all
          select customer_id, 'A02', 2::bigint, 40.0, 0.4, 0.3 from cust""")
    q(f"""create table marts.stamp_mission as
          select x.customer_id, (x.k + 1)::integer as category_rank, 'major' || x.k as category_major,
                 4.0 - x.k as category_mean_score, (x.pr + 1)::integer as product_rank, p.product_code,
                 p.product_name, 4.0 - x.k - x.pr * 0.1 as score, 'neural_preference' as model_name,
                 timestamp '2022-01-01 00:00:00' as generated_at
          from (select c.customer_id, k, pr, printf('PD%04d', (c.i + {per} + k * 2 + pr) % {np_}) as product_code
                from cust c, range(2) a(k), range(2) b(pr)) x
          join intermediate.int_products p using (product_code)""")
