"""BI access while rebuilding (issue: safe publishing): a separate reader process queries
the published marts in a loop while the whole pipeline (generate → ingest → dbt build →
validate → publish) rebuilds the warehouse; it must see zero errors and only complete
releases, and must end up on the new release."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from generated_builds import QUICK_TRAINING

from loyalty_analytics import pipeline


@pytest.mark.slow
def test_reader_sees_only_complete_releases_during_a_full_rebuild(tmp_path):
    first = pipeline.run("lpoint", customers=250, seed=11, data_dir=tmp_path, dbt_extra_vars=QUICK_TRAINING)
    assert first.ok, first.stages
    published = tmp_path / "published"
    stop = tmp_path / "stop-reader"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loyalty_analytics.publish",
            "--reader-loop",
            "900",
            "--out",
            str(published),
            "--stop-file",
            str(stop),
            "--deep",
            "--pause",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # new data (another seed), so the second release differs from the first
        second = pipeline.run(
            "lpoint", customers=250, seed=12, data_dir=tmp_path, regenerate=True, dbt_extra_vars=QUICK_TRAINING
        )
        assert second.ok, second.stages
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["errors"] == 0, stats["error_messages"]
    assert stats["reads"] > 10
    assert len(stats["releases_seen"]) == 2, stats
