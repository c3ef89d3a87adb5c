"""The association-rule models (models/intermediate/associations, models/marts/associations)
give the rules and figures of mlxtend's apriori(max_len=2) + association_rules on the same
baskets: receipts and customer-days, overall and per affiliate.

Cheap and honest: only the five association models run (`dbt run --select`), against a tiny
DuckDB file holding the three relations they read (int_purchase_lines, int_run_parameters,
int_products) filled with a few hundred seeded receipts with planted product groups; mlxtend
sees the same lines, grouped into baskets by pandas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules
from mlxtend.preprocessing import TransactionEncoder

from loyalty_analytics import paths

MODELS = [
    "int_association_basket_items",
    "int_association_item_supports",
    "int_association_pair_counts",
    "association_rules",
    "product_associations",
]
# Thresholds that all bind on the fixture (min_baskets in the small affiliate scopes); confidence
# and lift off any ratio of small counts, so no rule sits on a threshold (see _assert_clear_of_thresholds)
SETTINGS = {
    "association_min_support": 0.02,
    "association_min_baskets": 4,
    "association_min_confidence": 0.151,
    "association_min_lift": 1.0501,
    "association_top_n": 2,
}
OBSERVATION_END = "2021-03-10"
PLANTED_GROUPS = [["P01", "P02", "P03"], ["P04", "P05"], ["P06", "P07", "P08"]]
PRODUCTS = [f"P{i:02d}" for i in range(1, 15)]
RULE_KEY = ["basket_kind", "scope", "antecedent_product_code", "consequent_product_code"]
FIGURES = ["n_baskets", "antecedent_support", "consequent_support", "support", "confidence", "lift"]


def _purchase_lines(seed: int = 11, n_receipts: int = 500) -> pd.DataFrame:
    """Receipts of 40 customers at three affiliates over eleven days (the last one after
    observation_end): a planted group with each member kept with probability 0.6, plus random
    products; some products twice on a receipt, some customers at two affiliates on one day."""
    rng = np.random.default_rng(seed)
    rows = []
    for receipt in range(n_receipts):
        customer = f"C{rng.integers(40):02d}"
        affiliate = ["A01", "A02", "A03"][rng.choice(3, p=[0.6, 0.3, 0.1])]
        day = pd.Timestamp("2021-03-01") + pd.Timedelta(days=int(rng.integers(11)))
        group = PLANTED_GROUPS[rng.integers(len(PLANTED_GROUPS))]
        basket = [p for p in group if rng.random() < 0.6]
        basket += list(rng.choice(PRODUCTS, size=rng.integers(0, 3)))
        basket = basket or [str(rng.choice(PRODUCTS))]
        if rng.random() < 0.1:
            basket.append(basket[0])  # the same product on two lines
        rows += [(customer, f"R{receipt:04d}", affiliate, day.date(), str(product)) for product in basket]
    return pd.DataFrame(rows, columns=["customer_id", "receipt_id", "affiliate_code", "purchase_date", "product_code"])


def _write_upstream(database: Path, lines: pd.DataFrame) -> None:
    """The relations the association models read, where dbt's refs point."""
    products = pd.DataFrame(
        {
            "product_code": PRODUCTS,
            "product_name": [f"product {p}" for p in PRODUCTS],
            "category_1": ["A" if p <= "P07" else "B" for p in PRODUCTS],
            "category_2": ["A1" if p <= "P03" else "X" for p in PRODUCTS],
        }
    )
    con = duckdb.connect(str(database))
    try:
        con.execute("create schema intermediate")
        for name, frame in (("int_purchase_lines", lines), ("int_products", products)):
            con.register("frame", frame)
            con.execute(f"create table intermediate.{name} as select * from frame")
            con.unregister("frame")
        parameters = f"select date '{OBSERVATION_END}' as observation_end"
        con.execute(f"create table intermediate.int_run_parameters as {parameters}")
    finally:
        con.close()


def _run_association_models(tmp: Path, database: Path) -> None:
    dbt = str(Path(sys.executable).parent / "dbt")
    variables = {"dataset": "lpoint", "has_products": True, "has_business_units": True, **SETTINGS}
    command = [dbt, "run", "--select", *MODELS, "--vars", json.dumps(variables)]
    command += ["--project-dir", str(paths.PROJECT_ROOT), "--profiles-dir", str(paths.PROJECT_ROOT)]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    env = dict(os.environ, LOYALTY_DUCKDB_PATH=str(database), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    done = subprocess.run(command, env=env, cwd=paths.PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(purchase lines, association_rules, product_associations) of the models run on the fixture."""
    tmp = tmp_path_factory.mktemp("associations")
    database = tmp / "warehouse.duckdb"
    lines = _purchase_lines()
    _write_upstream(database, lines)
    _run_association_models(tmp, database)
    con = duckdb.connect(str(database), read_only=True)
    try:
        rules = con.execute("select * from marts.association_rules").df()
        top = con.execute("select * from marts.product_associations").df()
    finally:
        con.close()
    return lines, rules, top


def _baskets(lines: pd.DataFrame, basket_kind: str) -> dict[str, list[list[str]]]:
    """Scope -> baskets (product lists), grouped by pandas: what mlxtend is given."""
    kept = lines[lines.purchase_date <= pd.Timestamp(OBSERVATION_END).date()]
    basket = ["customer_id", "receipt_id" if basket_kind == "receipt" else "purchase_date"]
    scopes = {"overall": kept} | {code: part for code, part in kept.groupby("affiliate_code")}
    return {scope: [sorted(set(g)) for _, g in part.groupby(basket).product_code] for scope, part in scopes.items()}


def _mlxtend_rules(baskets: list[list[str]]) -> pd.DataFrame:
    """apriori(max_len=2) + association_rules; min_baskets as the support count/n it means."""
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
    n = len(onehot)
    min_support = max(SETTINGS["association_min_support"], SETTINGS["association_min_baskets"] / n)
    frequent = apriori(onehot, min_support=min_support, use_colnames=True, max_len=2)
    if not (frequent.itemsets.map(len) == 2).any():
        return pd.DataFrame(columns=RULE_KEY[2:] + FIGURES)
    rules = association_rules(
        frequent, num_itemsets=n, metric="confidence", min_threshold=SETTINGS["association_min_confidence"]
    )
    rules = rules[rules.lift >= SETTINGS["association_min_lift"]]
    _assert_clear_of_thresholds(rules)
    return pd.DataFrame(
        {
            "antecedent_product_code": rules.antecedents.map(lambda s: next(iter(s))),
            "consequent_product_code": rules.consequents.map(lambda s: next(iter(s))),
            "n_baskets": (rules.support * n).round().astype("int64"),
            "antecedent_support": rules["antecedent support"],
            "consequent_support": rules["consequent support"],
            "support": rules.support,
            "confidence": rules.confidence,
            "lift": rules.lift,
        }
    )


def _assert_clear_of_thresholds(rules: pd.DataFrame) -> None:
    """mlxtend and SQL round the ratios differently in the last bit: a rule sitting on a
    threshold could be kept by one and dropped by the other. The fixture has none."""
    for metric, var in (("confidence", "association_min_confidence"), ("lift", "association_min_lift")):
        assert not np.isclose(rules[metric], SETTINGS[var], rtol=0, atol=1e-9).any(), metric


def _expected(lines: pd.DataFrame, basket_kind: str) -> pd.DataFrame:
    frames = [
        _mlxtend_rules(baskets).assign(basket_kind=basket_kind, scope=scope)
        for scope, baskets in _baskets(lines, basket_kind).items()
    ]
    return pd.concat(frames, ignore_index=True)[RULE_KEY + FIGURES]


@pytest.mark.parametrize("basket_kind", ["receipt", "customer_day"])
def test_rules_and_figures_equal_mlxtend(built, basket_kind):
    lines, rules, _ = built
    expected = _expected(lines, basket_kind).sort_values(RULE_KEY, ignore_index=True)
    actual = rules[rules.basket_kind == basket_kind].sort_values(RULE_KEY, ignore_index=True)
    assert set(expected.scope) == {"overall", "A01", "A02", "A03"}, "the fixture should give rules in every scope"
    assert len(expected) > 30
    pd.testing.assert_frame_equal(actual[RULE_KEY], expected[RULE_KEY])
    np.testing.assert_array_equal(actual.n_baskets, expected.n_baskets)
    for figure in FIGURES[1:]:
        np.testing.assert_allclose(actual[figure], expected[figure], rtol=0, atol=1e-12, err_msg=figure)


def test_lift_rank_orders_consequents_and_product_associations_keep_the_top_n(built):
    _, rules, top = built
    by_lift = rules.assign(lift_9=rules.lift.round(9)).sort_values(
        ["basket_kind", "scope", "antecedent_product_code", "lift_9", "consequent_product_code"],
        ascending=[True, True, True, False, True],
    )
    expected_rank = by_lift.groupby(["basket_kind", "scope", "antecedent_product_code"]).cumcount() + 1
    assert (by_lift.lift_rank == expected_rank).all()
    best = rules[rules.lift_rank <= SETTINGS["association_top_n"]]
    assert len(best) < len(rules), "top_n should cut some antecedents' lists"
    merged = top.merge(best, on=RULE_KEY, suffixes=("", "_rule"), validate="one_to_one")
    assert len(merged) == len(best) == len(top)
    assert (merged.lift == merged.lift_rule).all() and (merged.lift_rank == merged.lift_rank_rule).all()
    assert (merged.consequent_product_name == "product " + merged.consequent_product_code).all()
