"""The dashboard (dashboard/) rendered with Streamlit's AppTest on published builds: every page
runs without an exception on L.Point and on CDNOW (which lacks products, affiliates, L.Pay and
demographics), and what the pages show equals SQL run on the published file. Also the sales
marts it reads (models/marts/sales/) and the sections that wait for marts a later release adds
(next_best_action, a repurchase-timing mart)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = (
    "views/overview.py",
    "views/cohorts.py",
    "views/segments.py",
    "views/customer.py",
    "views/model_quality.py",
    "views/campaigns.py",
)
SERVING_DB = "loyalty_marts.duckdb"


# -- helpers ------------------------------------------------------------------------------------


def sql(published: Path, statement: str, params=()) -> pd.DataFrame:
    """`statement` on the published release's serving file, read-only (what the pages read)."""
    con = duckdb.connect(str(published / "current" / SERVING_DB), read_only=True)
    try:
        return con.sql(statement, params=list(params)).to_arrow_table().to_pandas()
    finally:
        con.close()


def open_page(published: Path, page: str, monkeypatch, **widgets) -> AppTest:
    """Run the app on `published`, switch to `page`, set text inputs by key, rerun."""
    monkeypatch.setenv("LOYALTY_PUBLISHED_DIR", str(published))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page(page).run()  # no custom url_path: the page is found by file name before a first run
    for key, value in widgets.items():
        at.text_input(key=key).input(value).run()
    return at


def assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


def chart_data(at: AppTest, chart_id: str) -> pd.DataFrame:
    """The rows a chart was drawn from (its Arrow datasets), found by its description."""
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if spec.get("description") == chart_id:
            buffers = [d.data.data for d in chart.proto.datasets] or [chart.proto.data.data]
            return pd.concat([pa.ipc.open_stream(b).read_all().to_pandas() for b in buffers if b], ignore_index=True)
    raise AssertionError(
        f"no chart {chart_id!r}; charts: "
        f"{[json.loads(c.proto.spec).get('description') for c in at.get('vega_lite_chart')]}"
    )


def has_chart(at: AppTest, chart_id: str) -> bool:
    return any(json.loads(c.proto.spec).get("description") == chart_id for c in at.get("vega_lite_chart"))


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return found[0]


def as_number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def infos(at: AppTest) -> str:
    return " | ".join(i.value for i in at.info)


@pytest.fixture(scope="module")
def lpoint_published(lpoint_build) -> Path:
    return lpoint_build.published_dir


@pytest.fixture(scope="module")
def cdnow_published(cdnow_sample_build) -> Path:
    return cdnow_sample_build.published_dir


@pytest.fixture(params=["lpoint", "cdnow_sample"])
def published(request) -> Path:
    return request.getfixturevalue("lpoint_published" if request.param == "lpoint" else "cdnow_published")


def copy_release(published: Path, target: Path) -> Path:
    """A published folder whose `current` is a writable copy of `published`'s current release."""
    release = Path(os.path.realpath(published / "current"))
    copy = target / "releases" / release.name
    shutil.copytree(release, copy)
    os.symlink(f"releases/{release.name}", target / "current")
    return copy


# -- every page, both datasets ------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_error(published, page, monkeypatch):
    at = open_page(published, page, monkeypatch)
    assert_clean(at, page)
    assert at.title, f"{page} rendered nothing"


def test_customer_page_with_a_customer_renders_without_an_error(published, monkeypatch):
    customer = sql(published, "select min(customer_id) as c from marts.customer_rfm").c[0]
    assert_clean(open_page(published, "views/customer.py", monkeypatch, customer_id=customer), "customer")


# -- sales marts --------------------------------------------------------------------------------


def test_sales_marts_add_up_to_the_customer_marts(published):
    spend = sql(
        published,
        """
        select (select sum(spend) from marts.sales_daily) as daily,
               (select sum(spend) from marts.sales_by_weekday_hour) as weekday_hour,
               (select sum(total_spend) from marts.customer_rfm) as customers,
               (select sum(n_receipts) from marts.sales_daily) as daily_receipts,
               (select sum(n_receipts) from marts.customer_rfm) as customer_receipts""",
    ).iloc[0]
    assert spend.daily == pytest.approx(spend.customers, rel=1e-9)
    assert spend.weekday_hour == pytest.approx(spend.customers, rel=1e-9)
    assert int(spend.daily_receipts) == int(spend.customer_receipts)


def test_sales_marts_mark_what_a_dataset_lacks_as_null(lpoint_published, cdnow_published):
    lp = sql(
        lpoint_published,
        "select count(lpay_receipts) as lpay, count(hour) as hours, count(*) as n from marts.sales_by_weekday_hour",
    ).iloc[0]
    cd = sql(
        cdnow_published,
        "select count(lpay_receipts) as lpay, count(hour) as hours, count(*) as n from marts.sales_by_weekday_hour",
    ).iloc[0]
    assert lp.lpay == lp.n and lp.hours == lp.n
    assert cd.lpay == 0 and cd.hours == 0 and cd.n > 0  # no L.Pay, dates only


# -- overview -----------------------------------------------------------------------------------


def test_overview_kpis_equal_the_published_marts(published, monkeypatch):
    at = open_page(published, "views/overview.py", monkeypatch)
    expected = sql(
        published, "select count(*) as customers, sum(n_receipts) as purchases from marts.customer_rfm"
    ).iloc[0]
    assert as_number(metric(at, "Customers")) == expected.customers
    assert as_number(metric(at, "Purchases")) == expected.purchases


def test_overview_spend_charts_sum_to_the_customers_spend(published, monkeypatch):
    at = open_page(published, "views/overview.py", monkeypatch)
    total = sql(published, "select sum(total_spend) as s from marts.customer_rfm").s[0]
    assert chart_data(at, "daily_spend")["spend"].sum() == pytest.approx(total, rel=1e-9)
    assert chart_data(at, "spend_by_weekday")["spend"].sum() == pytest.approx(total, rel=1e-9)


def test_overview_shows_lpay_hour_demographics_and_affiliates_for_lpoint(lpoint_published, monkeypatch):
    at = open_page(lpoint_published, "views/overview.py", monkeypatch)
    ratio = sql(
        lpoint_published, "select count(*) filter (where lpay_payments > 0) / count(*) as r from marts.customer_rfm"
    ).r[0]
    assert as_number(metric(at, "L.Pay client ratio")) == pytest.approx(100 * ratio, abs=0.05)
    lpay = sql(lpoint_published, "select sum(lpay_receipts) as n from marts.sales_daily").n[0]
    assert chart_data(at, "daily_lpay")["lpay_receipts"].sum() == lpay
    by_hour = chart_data(at, "spend_by_hour")
    assert set(by_hour["hour"]) <= set(range(24)) and len(set(by_hour["hour"])) > 12
    demo = chart_data(at, "customers_by_age_sex")
    assert (
        demo["customers"].sum()
        == sql(lpoint_published, "select count(*) as n from marts.customer_360 where age_band is not null").n[0]
    )
    assert (
        len(chart_data(at, "spend_by_affiliate"))
        == sql(lpoint_published, "select count(distinct affiliate_code) as n from marts.sales_daily").n[0]
    )


def test_overview_hides_what_cdnow_lacks_with_a_note(cdnow_published, monkeypatch):
    at = open_page(cdnow_published, "views/overview.py", monkeypatch)
    assert not [m for m in at.metric if "L.Pay" in m.label]
    assert not any(
        has_chart(at, c) for c in ("daily_lpay", "spend_by_hour", "customers_by_age_sex", "spend_by_affiliate")
    )
    notes = infos(at)
    assert "no L.Pay" in notes and "dates only" in notes and "no demographics" in notes and "single store" in notes


# -- cohorts, segments --------------------------------------------------------------------------


def test_cohort_heatmaps_hold_the_mart(published, monkeypatch):
    at = open_page(published, "views/cohorts.py", monkeypatch)
    retention = chart_data(at, "retention")
    horizon = int(retention["months_since_first"].max())
    expected = sql(
        published,
        "select retention_rate from marts.customer_cohorts where months_since_first between 1 and ?",
        [horizon],
    )
    assert len(retention) == len(expected)
    assert retention["retention_rate"].sum() == pytest.approx(expected["retention_rate"].sum())
    sizes = chart_data(at, "cohort_sizes")
    assert sizes["cohort_size"].sum() == sql(published, "select count(*) as n from marts.customer_rfm").n[0]


def test_segment_and_tier_charts_count_every_customer(published, monkeypatch):
    at = open_page(published, "views/segments.py", monkeypatch)
    tiers = sql(published, "select tier, count(*) as customers from marts.customer_360 group by tier")
    shown = chart_data(at, "tier_sizes").set_index("tier")["customers"]
    assert shown.to_dict() == tiers.set_index("tier")["customers"].to_dict()
    model = at.selectbox(key="segmentation_model").value
    sizes = sql(
        published, "select sum(n_customers) as n from marts.segment_profiles where segmentation_model = ?", [model]
    ).n[0]
    assert chart_data(at, "segment_sizes")["n_customers"].sum() == sizes
    # the playbook action per segment comes from next_best_action (published on both datasets)
    profile = next(df.value for df in at.dataframe if "playbook action" in df.value.index)
    actions = set(sql(published, "select distinct action from marts.next_best_action").action)
    assert set(profile.loc["playbook action"].dropna()) <= actions


# -- customer -----------------------------------------------------------------------------------


def test_customer_page_shows_that_customers_tier_clv_and_recommendations(lpoint_published, monkeypatch):
    c = sql(
        lpoint_published,
        """select customer_id, tier, segment_name, n_receipts from marts.customer_360
                                 order by clv_12m desc limit 1 offset 3""",
    ).iloc[0]
    at = open_page(lpoint_published, "views/customer.py", monkeypatch, customer_id=c.customer_id)
    assert_clean(at, "customer")
    assert metric(at, "Tier") == c.tier
    assert metric(at, "Segment") == c.segment_name
    assert as_number(metric(at, "Receipts")) == c.n_receipts
    sessions = sql(
        lpoint_published,
        "select count(*) as n, sum(spend) as s from marts.customer_sessions where customer_id = ?",
        [c.customer_id],
    ).iloc[0]
    timeline = chart_data(at, "customer_timeline")
    assert len(timeline) == sessions.n and timeline["spend"].sum() == pytest.approx(sessions.s)
    # by default each kind's champion list (what BI reads), with the kind and the probability
    assert at.selectbox(key="rec_model").value == "champion of each kind"
    shown = ["affiliate_code", "recommendation_kind", "rank", "product_name", "purchase_probability", "model_name"]
    recs = next(df.value for df in at.dataframe if "product_name" in df.value.columns)
    expected = sql(
        lpoint_published,
        f"""select {", ".join(shown)} from marts.champion_recommendations
            where customer_id = ? and rank <= 5 order by affiliate_code, recommendation_kind, rank""",
        [c.customer_id],
    )
    assert len(expected) and recs[shown].reset_index(drop=True).equals(expected)
    model = at.selectbox(key="rec_model").options[-1]  # one published model's lists, every kind
    at.selectbox(key="rec_model").set_value(model).run()
    recs = next(df.value for df in at.dataframe if "product_name" in df.value.columns)
    expected = sql(
        lpoint_published,
        """select affiliate_code, recommendation_kind, rank, product_name from marts.product_recommendations
           where customer_id = ? and model_name = ? and rank <= 5 order by affiliate_code, recommendation_kind, rank""",
        [c.customer_id, model],
    )
    assert (
        recs[["affiliate_code", "recommendation_kind", "rank", "product_name"]].reset_index(drop=True).equals(expected)
    )


def test_customer_page_on_cdnow_shows_attributes_and_notes(cdnow_published, monkeypatch):
    c = sql(cdnow_published, "select customer_id, tier from marts.customer_360 order by customer_id limit 1").iloc[0]
    at = open_page(cdnow_published, "views/customer.py", monkeypatch, customer_id=c.customer_id)
    assert metric(at, "Tier") == c.tier
    assert "no shopping sessions" in infos(at) and "no product recommendations" in infos(at)


def test_unknown_customer_gets_a_warning_not_an_error(lpoint_published, monkeypatch):
    at = open_page(lpoint_published, "views/customer.py", monkeypatch, customer_id="no-such-customer")
    assert_clean(at, "customer")
    assert "no-such-customer" in at.warning[0].value


# -- model quality ------------------------------------------------------------------------------


def test_model_quality_shows_backtest_beside_seed000_and_metrics_equal_sql(lpoint_published, monkeypatch):
    at = open_page(lpoint_published, "views/model_quality.py", monkeypatch)
    curves = chart_data(at, "preference_backtest")
    seed = curves[curves["source"] == "source analysis"].sort_values("threshold")
    assert list(seed["repurchase_rate"]) == [0.164, 0.164, 0.169, 0.169, 0.177, 0.225, 0.558, 0.631, 0.700, 0.733]
    ours = sql(lpoint_published, "select count(*) as n, sum(repurchase_rate) as s from marts.preference_score_backtest")
    assert (curves["source"] == "this release").sum() == ours.n[0]
    assert curves.loc[curves["source"] == "this release", "repurchase_rate"].sum() == pytest.approx(ours.s[0])

    at.selectbox(key="rec_split").select("new_items").run()
    at.selectbox(key="rec_metric").select("hit_rate").run()
    at.selectbox(key="rec_k").select(5).run()
    bars = chart_data(at, "recommender_metric").set_index("model_name")
    expected = sql(
        lpoint_published,
        """select model_name, value from marts.model_metrics
                                        where split = 'new_items' and metric = 'hit_rate' and k = 5""",
    )
    assert bars["value"].to_dict() == pytest.approx(expected.set_index("model_name")["value"].to_dict())
    assert bars.loc["oracle", "role"] == "oracle" and bars.loc["popularity", "role"] == "baseline"

    totals = chart_data(at, "clv_holdout_totals").set_index("model_name")["value"]
    truth = sql(
        lpoint_published,
        """select model_name, metric, value from marts.model_metrics
                                     where split = 'holdout' and metric in ('predicted_total', 'actual_total')""",
    )
    assert totals["actual"] == truth.loc[truth.metric == "actual_total", "value"].iloc[0]
    for row in truth[truth.metric == "predicted_total"].itertuples():
        assert totals[row.model_name] == pytest.approx(row.value)


def test_model_quality_on_cdnow_keeps_clv_and_notes_the_rest(cdnow_published, monkeypatch):
    at = open_page(cdnow_published, "views/model_quality.py", monkeypatch)
    assert has_chart(at, "clv_holdout_totals")
    assert not has_chart(at, "preference_backtest") and not has_chart(at, "recommender_metric")
    assert "no preference-score back-test" in infos(at) and "no recommenders" in infos(at)


# -- marts of a later release, a missing release, a release swap ---------------------------------


def test_campaign_page_lists_the_audience_and_offers_a_csv(lpoint_published, monkeypatch):
    published = lpoint_published
    at = open_page(published, "views/campaigns.py", monkeypatch)
    assert_clean(at, "campaigns")
    contactable = "from marts.next_best_action where not suppressed"
    n = sql(published, f"select count(distinct customer_id) as n {contactable}").n[0]
    assert n > 0 and as_number(metric(at, "Customers in the audience")) == n
    assert chart_data(at, "audience_by_action")["customers"].sum() == n
    assert at.get("download_button"), "no CSV download"

    action = sql(published, f"select min(action) as a {contactable}").a[0]
    at.multiselect(key="campaign_actions").set_value([action]).run()
    chosen = sql(published, f"select count(*) as n {contactable} and action = ?", [action]).n[0]
    assert as_number(metric(at, "Customers in the audience")) == chosen


def test_crm_marts_fill_the_customer_page(lpoint_published, monkeypatch):
    published = lpoint_published
    c = sql(
        published,
        """select customer_id from marts.next_best_action join marts.repurchase_timing using (customer_id)
           order by customer_id limit 1""",
    ).customer_id[0]
    at = open_page(published, "views/customer.py", monkeypatch, customer_id=c)
    assert_clean(at, "customer")
    frames = [df.value for df in at.dataframe]
    assert any("p_buy_30d" in f.columns for f in frames)
    assert any("action" in f.columns and len(f) == 1 for f in frames)
    recs = next(f for f in frames if "product_name" in f.columns)
    assert recs["reason"].notna().all() and len(recs)


def test_no_release_yet_is_a_note_not_an_error(tmp_path, monkeypatch):
    at = open_page(tmp_path, "views/overview.py", monkeypatch)
    assert_clean(at, "overview")
    assert "no published release" in infos(at)


def test_a_new_release_is_shown_after_the_swap(lpoint_published, tmp_path, monkeypatch):
    """Queries resolve `current` each time and cache per release: after the publisher swaps
    `current`, the same session shows the new release's numbers."""
    release = copy_release(lpoint_published, tmp_path)
    monkeypatch.setenv("LOYALTY_PUBLISHED_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    before = as_number(metric(at, "Customers"))

    smaller = tmp_path / "releases" / "smaller"
    shutil.copytree(release, smaller)
    con = duckdb.connect(str(smaller / SERVING_DB))
    try:
        con.execute(
            "delete from marts.customer_rfm where customer_id in "
            "(select customer_id from marts.customer_rfm order by customer_id limit 7)"
        )
    finally:
        con.close()
    os.symlink("releases/smaller", tmp_path / ".current-new")
    os.replace(tmp_path / ".current-new", tmp_path / "current")
    at.run()
    assert as_number(metric(at, "Customers")) == before - 7
