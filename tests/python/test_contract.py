"""The input contract (loyalty_analytics.contract) is the one declaration of the input files:
the dbt sources are generated from it, and dbt's own copies (the affiliates seed, the default
dates) must agree with it."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest
import yaml

from loyalty_analytics import contract, paths
from loyalty_analytics.contract import DATASETS, sources
from loyalty_analytics.contract_sources import sources_yml

ROOT = paths.PROJECT_ROOT
# The prepared folder, escaped so that a quote in its name cannot end the SQL string.
PREPARED_DIR = """{{ env_var('LOYALTY_PREPARED_DIR', 'data/prepared') | replace("'", "''") }}"""


def _contract_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loyalty_analytics.contract", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("dataset", sources(), ids=lambda d: d.source)
def test_checked_in_sources_yml_is_generated_from_the_contract(dataset):
    checked_in = (ROOT / dataset.sources_yml_path).read_text(encoding="utf-8")
    assert checked_in == sources_yml(dataset), (
        f"{dataset.sources_yml_path} differs from the contract: "
        "run python -m loyalty_analytics.contract --write-sources"
    )


@pytest.mark.parametrize("dataset", sources(), ids=lambda d: d.source)
def test_dbt_sources_read_every_declared_column_with_its_sql_type(dataset):
    """What dbt reads: per table the prepared file, the column names and SQL types in the
    declared order, and a description for source, table and every column."""
    (source,) = yaml.safe_load((ROOT / dataset.sources_yml_path).read_text(encoding="utf-8"))["sources"]
    assert source["name"] == dataset.source and source["description"] == dataset.description
    assert [t["name"] for t in source["tables"]] == [t.name for t in dataset.tables]
    for table, declared in zip(source["tables"], dataset.tables):
        location = table["meta"]["external_location"]
        if declared.format == "parquet":  # typed by ingest on write (test_real_datasets checks the types)
            assert location == f"read_parquet('{PREPARED_DIR}/{declared.file}')", location
        else:
            assert location.startswith(f"read_csv('{PREPARED_DIR}/{declared.file}',"), location
            names = re.findall(r"'(\w+)'", re.search(r"names=\[(.*?)\]", location).group(1))
            types = re.findall(r"'(\w+)'", re.search(r"types=\[(.*?)\]", location).group(1))
            assert list(zip(names, types)) == [(c.name, c.sql_type) for c in declared.columns], table["name"]
            assert declared.file.removesuffix(".csv") in table["description"]
        assert [(c["name"], c["description"]) for c in table["columns"]] == [
            (c.name, c.full_description) for c in declared.columns
        ]


def test_affiliates_seed_has_the_contract_codes_and_kinds():
    """dbt's staging reads the kind of an affiliate code from seeds/affiliates.csv; ingest and
    the generator read the contract. Both must list the same codes with the same kinds."""
    with open(ROOT / "seeds" / "affiliates.csv", encoding="utf-8", newline="") as fh:
        seed = sorted((row["affiliate_code"], row["affiliate_kind"]) for row in csv.DictReader(fh))
    declared = sorted((a.code, a.kind) for dataset in sources() for a in dataset.affiliates)
    assert seed == declared


def test_default_periods_match_dbt_run_parameters():
    macro = (ROOT / "macros" / "run_parameters.sql").read_text(encoding="utf-8")
    defaults = {
        name: (start, end)
        for name, start, end in re.findall(r"'(\w+)': \{'period_start': '([0-9-]+)', 'period_end': '([0-9-]+)'", macro)
    }
    assert defaults == {name: (d.period.start.isoformat(), d.period.end.isoformat()) for name, d in DATASETS.items()}


def test_check_cli_names_a_hand_edited_sources_yml(tmp_path):
    assert _contract_cli("--write-sources", "--project-dir", str(tmp_path)).returncode == 0
    assert _contract_cli("--check", "--project-dir", str(tmp_path)).returncode == 0
    edited = tmp_path / contract.LPOINT.sources_yml_path
    edited.write_text(edited.read_text(encoding="utf-8").replace("'DOUBLE'", "'BIGINT'", 1), encoding="utf-8")
    result = _contract_cli("--check", "--project-dir", str(tmp_path))
    assert result.returncode == 1
    assert str(edited) in result.stderr and "--write-sources" in result.stderr
    assert str(tmp_path / contract.CDNOW.sources_yml_path) not in result.stderr
