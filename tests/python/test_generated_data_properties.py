"""Property: clean generated data passes the whole pipeline, whatever the seed and size.

Generated data has no defects, so every dbt test and every Great Expectations expectation must
pass on it; a failure is a bug in the models (e.g. a float sum crossing a bound it cannot cross
mathematically), not in the data. Five (seed, customers) pairs, each built once per session."""

import json

import pytest
from generated_builds import PROPERTY_PAIRS, failed_dbt_nodes, generated_build, warehouse_marts


@pytest.mark.parametrize(("seed", "customers"), PROPERTY_PAIRS, ids=[f"seed{s}-n{n}" for s, n in PROPERTY_PAIRS])
def test_clean_generated_data_passes_every_test_and_expectation(tmp_path_factory, seed, customers):
    build = generated_build(tmp_path_factory, seed, customers)
    stages = {s.name: s.returncode for s in build.report.stages}
    assert build.report.ok, f"pipeline failed: {stages}; dbt nodes not passing: {failed_dbt_nodes(build)}"
    assert "validate + publish" in stages, "nothing was validated and published"
    release = json.loads((build.current / "_release.json").read_text())
    assert release["validation"]["success"]
    assert set(release["marts"]) == warehouse_marts(build), "every mart of the warehouse is published"
