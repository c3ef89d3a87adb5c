"""The dashboard in a real browser: `streamlit run` on 127.0.0.1, headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright) opens every page of a published L.Point and CDNOW
build; a page fails on any exception or error alert, or a chart that never draws. Screenshots
go to the test's temporary folder (or DASHBOARD_SCREENSHOTS_DIR)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the dashboard package (not installed)
pytest.importorskip("streamlit")
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
from dashboard import browser_check  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        browser_check.chromium_path() is None,
        reason="Chromium is not installed: apt-get install -y chromium (or set CHROMIUM)",
    ),
]

# Charts each page draws at least (a page whose data is absent shows notes instead).
MIN_CHARTS = {
    "lpoint": {"overview": 7, "cohorts": 4, "segments": 4, "customer": 1, "model_quality": 3},
    "cdnow_sample": {"overview": 2, "cohorts": 4, "segments": 4, "model_quality": 1},
}


def screenshot_dir(tmp_path: Path, dataset: str) -> Path:
    base = os.environ.get("DASHBOARD_SCREENSHOTS_DIR")
    return Path(base) / dataset if base else tmp_path / dataset


@pytest.mark.parametrize("dataset", ["lpoint", "cdnow_sample"])
def test_every_page_opens_in_chromium_without_an_error(dataset, request, tmp_path):
    layout = request.getfixturevalue("lpoint_build" if dataset == "lpoint" else "cdnow_sample_build")
    out = screenshot_dir(tmp_path, dataset)
    customer = browser_check.sample_customer(layout.published_dir)
    with browser_check.running_app(layout.published_dir) as base:
        results = browser_check.check_pages(base, out, customer_id=customer)

    assert [r.page for r in results] == [stem for _, stem in browser_check.PAGES]
    for r in results:
        assert not r.errors, f"{r.page}: {r.errors}"
        assert r.charts >= MIN_CHARTS[dataset].get(r.page, 0), f"{r.page}: {r.charts} charts drawn"
        assert Path(r.screenshot).stat().st_size > 10_000, f"{r.page}: blank screenshot?"
