"""The planted truth is read in one place (loyalty_analytics.truth): used only when it belongs to
the data, aligned to the data's customers."""

import pandas as pd
import pytest

from loyalty_analytics import truth


@pytest.fixture
def truth_dir(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["C3", "C1", "C2", "C9"],
            "segment_id": [3, 1, 2, 9],
            "alive_at_end": [True, False, True, False],
        }
    )
    frame.to_parquet(tmp_path / "customers.parquet")
    return tmp_path


def test_truth_is_aligned_to_the_customers_asked_for(truth_dir):
    got = truth.load_truth(pd.Series(["C2", "C1", "C3"]), ["segment_id"], truth_dir)
    assert got["customer_id"].tolist() == ["C2", "C1", "C3"]
    assert got["segment_id"].tolist() == [2, 1, 3]
    assert list(got.columns) == ["customer_id", "segment_id"]
    assert truth.truth_matches(["C1", "C2"], truth_dir)  # truth may hold customers without data


@pytest.mark.parametrize("customer_ids", [["C1", "C404"], []])
def test_stale_or_empty_truth_is_not_used(truth_dir, customer_ids):
    assert truth.load_truth(customer_ids, ["segment_id"], truth_dir) is None
    assert not truth.truth_matches(customer_ids, truth_dir)


def test_duplicate_ids_or_missing_file_or_column_mean_no_truth(truth_dir, tmp_path_factory):
    assert truth.load_truth(["C1"], ["no_such_column"], truth_dir) is None
    empty = tmp_path_factory.mktemp("empty")
    assert truth.load_truth(["C1"], None, empty) is None and not truth.truth_matches(["C1"], empty)
    pd.DataFrame({"customer_id": ["C1", "C1"], "segment_id": [1, 2]}).to_parquet(empty / "customers.parquet")
    assert truth.load_truth(["C1"], None, empty) is None and not truth.truth_matches(["C1"], empty)


def test_default_folder_is_the_truth_dir_of_the_run(truth_dir, monkeypatch):
    monkeypatch.setenv("LOYALTY_TRUTH_DIR", str(truth_dir))
    assert truth.load_truth(["C9"], ["alive_at_end"])["alive_at_end"].tolist() == [False]
