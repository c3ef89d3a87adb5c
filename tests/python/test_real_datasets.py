"""The two real public datasets end to end, as CI builds them: a deterministic sample (every line
of a few hundred customers, `--sample-customers`) of UCI Online Retail and of The Complete
Journey through the generic input contract (datasets/*.yml) → dbt build → validate + publish.

The files are read where they are (a folder ../shared/data/real/<name> beside the repository,
$LOYALTY_SOURCE_DIR, or the dataset's Python package); without them these tests skip and say
where to get the data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from generated_builds import QUICK_TRAINING

from loyalty_analytics import pipeline
from loyalty_analytics.contract import GENERIC
from loyalty_analytics.ingest import InputError, mapping

SAMPLES = {"online_retail": 300, "completejourney": 200}
RECOMMENDERS = {
    "popularity",
    "popularity_affiliate",
    "personal_frequency",
    "als",
    "cooccurrence",
    "tifu_knn",
    "preference_nn",
    "sequential_gru",
}


def _source(name: str):
    config = mapping.load(mapping.config_path(name))
    try:
        return mapping.source_dir(config, None)
    except InputError as missing:
        pytest.skip(f"{name} is not on this machine: {missing}")


def _build(tmp_path_factory, name: str) -> pipeline.Layout:
    source = _source(name)
    data_dir = tmp_path_factory.mktemp(name)
    report = pipeline.run(
        name, data_dir=data_dir, source_dir=source, sample_customers=SAMPLES[name], dbt_extra_vars=QUICK_TRAINING
    )
    assert report.ok, f"pipeline failed for the {name} sample: {report.stages}"
    return pipeline.Layout.for_dataset(name, data_dir, source, SAMPLES[name])


@pytest.fixture(scope="module")
def online_retail(tmp_path_factory):
    return _build(tmp_path_factory, "online_retail")


@pytest.fixture(scope="module")
def completejourney(tmp_path_factory):
    return _build(tmp_path_factory, "completejourney")


def _published(layout: pipeline.Layout) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(layout.published_dir / "current" / "loyalty_marts.duckdb"), read_only=True)


def _warehouse(layout: pipeline.Layout) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(layout.warehouse), read_only=True)


def _sampled_customers(layout: pipeline.Layout) -> set[str]:
    lines = pd.read_parquet(layout.prepared_dir / "transactions.parquet", columns=["customer_id"])
    return set(lines.customer_id.dropna())


def _online_retail_raw(layout: pipeline.Layout) -> pd.DataFrame:
    raw = pd.read_parquet(layout.source_dir / "online_retail.parquet")
    ids = raw.CustomerID.astype("Int64").astype("string")
    return raw.assign(customer_id=ids)[ids.isin(_sampled_customers(layout)).fillna(False)]


def test_online_retail_rfm_equals_lifetimes(online_retail):
    """The issue's check: spend events = lines with a customer, Quantity > 0, UnitPrice > 0, not a C
    invoice; amount = Quantity × UnitPrice; the day of InvoiceDate. Fully identical lines are set
    aside as duplicate_line (docs/input_contract.md), so the reference drops them too."""
    from lifetimes.utils import summary_data_from_transaction_data

    raw = _online_retail_raw(online_retail)
    lines = raw[(raw.Quantity > 0) & (raw.UnitPrice > 0) & ~raw.InvoiceNo.astype(str).str.startswith("C")]
    lines = lines.drop_duplicates(subset=[c for c in raw.columns if c != "customer_id"])
    lines = lines.assign(amount=lines.Quantity * lines.UnitPrice, day=pd.to_datetime(lines.InvoiceDate).dt.normalize())
    with _warehouse(online_retail) as con:
        (observation_end,) = con.execute("select observation_end from intermediate.int_run_parameters").fetchone()
    expected = summary_data_from_transaction_data(
        lines, "customer_id", "day", monetary_value_col="amount", freq="D", observation_period_end=observation_end
    )
    with _published(online_retail) as con:
        got = con.execute("select customer_id, frequency, recency, T, monetary_value from marts.customer_rfm").df()
    got = got.set_index("customer_id").sort_index()
    expected = expected.sort_index()
    assert len(got) >= 250 and list(got.index) == list(expected.index)
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=1e-6, err_msg=column)


def test_online_retail_returns_and_missing_customers_are_counted_never_purchases(online_retail):
    raw = _online_retail_raw(online_retail)
    cancellation_lines = int(raw.InvoiceNo.astype(str).str.startswith("C").sum())
    assert cancellation_lines > 0
    with _warehouse(online_retail) as con:
        returns = con.execute(
            # a customer whose every line is a return (no purchase) has no row in customer_rfm
            "select count(*), count(*) filter (where customer_id in (select customer_id from marts.customer_rfm)) "
            "from intermediate.int_returns"
        ).fetchone()
        returned_as_purchase = con.execute(
            "select count(*) from intermediate.int_transactions where starts_with(receipt_id, 'C')"
        ).fetchone()[0]
        quarantined = dict(
            con.execute(
                "select quarantine_reason, count(*) from intermediate.int_quarantined_rows group by 1"
            ).fetchall()
        )
        without_customer = con.execute(
            "select count(*), count(quarantine_reason) from intermediate.int_retail_lines_checked "
            "where customer_id is null"
        ).fetchone()
        missing = con.execute(
            f"select count(*) from read_parquet('{online_retail.prepared_dir / 'transactions.parquet'}') "
            "where customer_id is null"
        ).fetchone()[0]
    with _published(online_retail) as con:
        rfm_returns = con.execute(
            "select sum(returned_lines), max(return_line_rate) from marts.customer_rfm"
        ).fetchone()
    assert returned_as_purchase == 0
    assert 0 < returns[0] <= cancellation_lines
    assert rfm_returns[0] == returns[1] and 0 < rfm_returns[1] <= 1
    # lines without a customer: a deterministic share of them is in the sample, every one set aside
    # (as missing_customer, or duplicate_line when it copies an earlier line: the first rule wins)
    assert missing > 0 and without_customer == (missing, missing)
    assert 0 < quarantined["missing_customer"] <= missing
    assert quarantined.get("duplicate_line", 0) > 0


def test_marts_follow_what_each_dataset_records(online_retail, completejourney):
    """Online Retail has no categories, business units or demographics: the marts that need them
    are absent, never filled with made-up values; The Complete Journey has categories (stamp
    mission) and demographics."""
    with _published(online_retail) as con:
        retail_marts = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
        sessions = con.execute("select count(*), count(n_categories) from marts.customer_sessions").fetchone()
    with _published(completejourney) as con:
        journey_marts = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
        missions = con.execute("select count(*) from marts.stamp_mission").fetchone()[0]
    assert "stamp_mission" not in retail_marts and "affiliate_preferences" not in retail_marts
    assert sessions[0] > 0 and sessions[1] == 0  # categories null, not 0
    assert {"customer_rfm", "customer_360", "product_recommendations", "customer_product_preference"} <= retail_marts
    assert "stamp_mission" in journey_marts and missions > 0
    with _warehouse(completejourney) as con:
        attributes = {
            a
            for (a,) in con.execute("select distinct attribute from staging.stg_retail__customer_attributes").fetchall()
        }
    assert {"age", "income"} <= attributes


@pytest.mark.parametrize("dataset", ["online_retail", "completejourney"])
def test_every_recommender_and_clv_is_evaluated(dataset, request):
    layout = request.getfixturevalue(dataset)
    with _published(layout) as con:
        metrics = con.execute("select model_name, split, metric, value from marts.model_metrics").df()
    recommender_rows = metrics[metrics.split.isin(["all_items", "new_items"])]
    assert RECOMMENDERS <= set(recommender_rows.model_name)
    assert recommender_rows.value.between(0, 1).all()
    assert "oracle" not in set(metrics.model_name)  # real data has no planted truth
    assert metrics.model_name.str.contains("bgnbd|pareto", regex=True).any()
    assert "clv_naive_past_rate" in set(metrics.model_name)  # the CLV holdout baseline


@pytest.mark.parametrize("dataset", ["online_retail", "completejourney"])
def test_recommendation_kinds_with_one_business_unit(dataset, request):
    """Both samples have one business unit: nothing can be new at an affiliate, so that kind has
    no split, no champion and no rows; the other two are evaluated, calibrated and published."""
    layout = request.getfixturevalue(dataset)
    with _published(layout) as con:
        metrics = con.execute("select model_name, split, metric, value from marts.model_metrics").df()
        champions = con.execute("select recommendation_kind, model_name from marts.recommendation_champions").df()
        listed = con.execute(
            "select recommendation_kind, count(*) as n, min(purchase_probability) as low, "
            "max(purchase_probability) as high from marts.champion_recommendations group by 1"
        ).df()
    kinds = {"new_to_customer", "replenishment"}
    kind_rows = metrics[metrics.split.isin(kinds | {"new_at_affiliate"})]
    assert set(kind_rows.split) == kinds and RECOMMENDERS | {"champion"} <= set(kind_rows.model_name)
    recommendation_rows = ~metrics.model_name.str.startswith("timing_")  # timing reports an ece per horizon
    assert set(metrics.loc[(metrics.metric == "ece") & recommendation_rows, "split"]) == kinds
    assert {f"selection_{kind}" for kind in kinds} == set(metrics.split[metrics.split.str.startswith("selection_")])
    assert set(champions.recommendation_kind) == kinds and set(champions.model_name) <= RECOMMENDERS
    assert set(listed.recommendation_kind) == kinds and (listed.n > 0).all()
    assert ((listed.low >= 0) & (listed.high <= 1)).all()


@pytest.mark.parametrize("dataset", ["online_retail", "completejourney"])
def test_prepared_files_have_the_contract_columns_and_types(dataset, request):
    """The dbt source reads ingest's Parquet files as they are: their columns and types are the
    ones contract.GENERIC declares."""
    layout = request.getfixturevalue(dataset)
    con = duckdb.connect()
    for table in GENERIC.tables:
        described = con.execute(f"describe select * from read_parquet('{layout.prepared_dir / table.file}')").fetchall()
        assert [(name, kind) for name, kind, *_ in described] == [(c.name, c.sql_type) for c in table.columns]


@pytest.mark.parametrize("dataset", ["online_retail", "completejourney"])
def test_every_dashboard_page_renders_on_the_real_data(dataset, request, monkeypatch):
    """The analysts' dashboard on a real dataset's release: every page runs without an exception
    or an error element (sections whose data the dataset lacks say so instead)."""
    pytest.importorskip("streamlit")
    from test_dashboard import PAGES, assert_clean, open_page

    layout = request.getfixturevalue(dataset)
    for page in PAGES:
        assert_clean(open_page(layout.published_dir, page, monkeypatch), page)
