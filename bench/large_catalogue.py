"""Recommenders on real retail catalogues: read a dataset's files straight into InteractionData,
fit every baseline and both neural models, evaluate them on the time split (all_items /
new_items / new_items_sparse) and write a report of fit and evaluation seconds, peak RSS and
metrics per model.

    python -m bench.large_catalogue --dataset completejourney --data-dir <folder with transactions.parquet, …>
    python -m bench.large_catalogue --dataset online_retail --data-dir <folder with online_retail.parquet>
    python -m bench.large_catalogue --dataset lpoint --data-dir <a pipeline data folder (warehouse.duckdb, truth/)>

Datasets (the files are read where they are, never copied):

* ``completejourney`` (84.51° / dunnhumby The Complete Journey): customer = household_id,
  session = basket_id, product = product_id (categories department / product_category /
  product_type), one business unit ``ALL``, time = transaction_timestamp (UTC) in
  America/New_York local time; demographics (age, income, …) as customer attributes. Cut
  2017-09-30, truth to the end of the data.
* ``online_retail`` (UCI Online Retail): lines with a CustomerID, Quantity > 0, UnitPrice > 0
  and not a cancellation (InvoiceNo ``C…``); session = InvoiceNo; product = StockCode (name =
  its most frequent Description, no categories); attribute = the customer's Country. Cut
  2011-09-09.
* ``lpoint``: a built generated warehouse — the same relations the dbt Python models read
  (int_session_lines, int_customer_attributes, stg_lpoint__products, int_preference_calibration),
  cut at calibration_end; the oracle is evaluated when the truth folder matches.

Peak RSS is the process's resident memory sampled every 0.05 s (psutil) during each phase;
CPU seconds (all threads) are reported next to wall seconds because the machine may be shared.
Reports: ``bench/results/large_catalogue_<dataset>.md`` and ``.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from loyalty_analytics.recommenders import jobs
from loyalty_analytics.recommenders.data import InteractionData, build_interaction_data
from loyalty_analytics.recommenders.evaluation import evaluate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results"
SAMPLE_SECONDS = 0.05
ONE_UNIT = "ALL"  # the affiliate code of a single business unit


# ---------------------------------------------------------------------------- peak memory
class PeakRSS:
    """Samples this process's RSS in a thread; ``phase()`` records the peak of a with-block."""

    def __init__(self, interval: float = SAMPLE_SECONDS):
        self.process = psutil.Process()
        self.interval = interval
        self.peak = self.current = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            rss = self.process.memory_info().rss
            self.peak, self.current = max(self.peak, rss), max(self.current, rss)
            self._done.wait(self.interval)

    @contextmanager
    def phase(self, record: dict, key: str):
        """Wall seconds, CPU seconds (all threads of the process) and peak RSS (MB) of the block
        go to ``record[key + '_seconds' / '_cpu_seconds' / '_peak_rss_mb']``."""
        self.current = self.process.memory_info().rss
        started, cpu = time.perf_counter(), time.process_time()
        yield
        record[f"{key}_seconds"] = round(time.perf_counter() - started, 2)
        record[f"{key}_cpu_seconds"] = round(time.process_time() - cpu, 2)
        record[f"{key}_peak_rss_mb"] = round(max(self.current, self.process.memory_info().rss) / 2**20)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak / 2**20


# ---------------------------------------------------------------------------- datasets
def complete_journey(folder: Path) -> tuple[dict, dt.date, dt.date | None]:
    tx = pd.read_parquet(
        folder / "transactions.parquet",
        columns=["household_id", "basket_id", "product_id", "quantity", "sales_value", "transaction_timestamp"],
    )
    local = tx["transaction_timestamp"].dt.tz_localize("UTC").dt.tz_convert("America/New_York").dt.tz_localize(None)
    lines = pd.DataFrame(
        {
            "customer_id": tx["household_id"].astype(str),
            "product_code": tx["product_id"].astype(str),
            "affiliate_code": ONE_UNIT,
            "purchased_at": local,
            "session_id": tx["basket_id"].astype(str),
            "quantity": tx["quantity"],
            "amount": tx["sales_value"],
        }
    )
    products = pd.read_parquet(folder / "products.parquet")
    products = pd.DataFrame(
        {
            "product_code": products["product_id"].astype(str),
            "category_1": products["department"],
            "category_2": products["product_category"],
            "category_3": products["product_type"],
        }
    )
    customers = pd.read_parquet(folder / "demographics.parquet")
    customers = customers.rename(columns={"household_id": "customer_id"}).astype({"customer_id": str})
    return {"lines": lines, "customers": customers, "products": products}, dt.date(2017, 9, 30), None


def online_retail(folder: Path) -> tuple[dict, dt.date, dt.date | None]:
    raw = pd.read_parquet(folder / "online_retail.parquet")
    keep = (
        raw["CustomerID"].notna()
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & ~raw["InvoiceNo"].astype(str).str.startswith("C")
    )
    raw = raw.loc[keep]
    customer = raw["CustomerID"].astype("int64").astype(str)
    lines = pd.DataFrame(
        {
            "customer_id": customer,
            "product_code": raw["StockCode"].astype(str),
            "affiliate_code": ONE_UNIT,
            "purchased_at": raw["InvoiceDate"],
            "session_id": raw["InvoiceNo"].astype(str),
            "quantity": raw["Quantity"],
            "amount": raw["Quantity"] * raw["UnitPrice"],
        }
    )
    countries = pd.DataFrame({"customer_id": customer, "country": raw["Country"]})
    customers = countries.groupby("customer_id")["country"].agg(lambda c: c.mode().iloc[0]).reset_index()
    names = pd.DataFrame({"product_code": lines["product_code"], "product_name": raw["Description"].str.strip()})
    products = names.dropna().groupby("product_code")["product_name"].agg(lambda n: n.mode().iloc[0]).reset_index()
    return {"lines": lines, "customers": customers, "products": products}, dt.date(2011, 9, 9), None


def lpoint_warehouse(folder: Path) -> tuple[dict, dt.date, dt.date | None]:
    import duckdb

    con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    money = (
        "spend"
        if "spend" in [r[0] for r in con.sql("describe intermediate.int_session_lines").fetchall()]
        else "amount"
    )
    frames = {
        "lines": con.sql(
            "select customer_id, product_code, affiliate_code, purchased_at, session_id, quantity, "
            f"{money} as amount from intermediate.int_session_lines"
        ).df(),
        "customers": con.sql("select * from intermediate.int_customer_attributes").df(),
        "products": con.sql("select * from staging.stg_lpoint__products").df(),
        "preference": con.sql(
            "select affiliate_code, customer_id, product_code, preference_score "
            "from intermediate.int_preference_calibration"
        ).df(),
    }
    params = con.execute("select calibration_end, observation_end from intermediate.int_run_parameters").fetchone()
    return frames, pd.Timestamp(params[0]).date(), pd.Timestamp(params[1]).date()


LOADERS = {"completejourney": complete_journey, "online_retail": online_retail, "lpoint": lpoint_warehouse}


def interaction_data(frames: dict, cut: dt.date, end: dt.date | None) -> tuple[InteractionData, pd.DataFrame]:
    lines = frames["lines"]
    if end is not None:
        lines = lines[pd.to_datetime(lines["purchased_at"]).dt.date <= end]
    return build_interaction_data(lines, frames["customers"], frames["products"], frames.get("preference"), cut)


# ---------------------------------------------------------------------------- run
def run(dataset: str, folder: Path, seed: int, only: list[str] | None = None, threads: int | None = None) -> dict:
    rss = PeakRSS()
    record: dict = {
        "dataset": dataset,
        "seed": seed,
        "started": dt.datetime.now().astimezone().isoformat(),
        "torch_threads": threads or "as jobs.neural_models",
        "load_average_before": list(psutil.getloadavg()),
    }
    with rss.phase(record, "load"):
        frames, cut, end = LOADERS[dataset](folder)
        data, truth = interaction_data(frames, cut, end)
        del frames
    record.update(
        cut_date=str(cut),
        n_customers=data.n_customers,
        n_products=data.n_products,
        n_products_sold=int(data.products_sold().sum()),
        n_history_lines=len(data.lines),
        n_sessions=int(data.lines["session_id"].nunique()),
        n_truth_pairs=len(truth),
        customer_attributes=list(data.customer_features.columns),
        category_levels=list(data.product_features.columns),
    )
    print(f"[bench] {dataset}: {data} in {record['load_seconds']} s", flush=True)
    models = [m for m in jobs.evaluation_models(seed) if only is None or m.name in only]
    for model in models:
        if threads and hasattr(model, "num_threads"):
            model.num_threads = threads
    record["models"], metrics = [], []
    for model in models:
        entry = {"model": model.name}
        with rss.phase(entry, "fit"):
            model.fit(data)
        with rss.phase(entry, "evaluate"):
            metrics.append(evaluate([model], data, truth))
        print(
            f"[bench] {model.name}: fit {entry['fit_seconds']} s, evaluate {entry['evaluate_seconds']} s, "
            f"peak RSS {entry['fit_peak_rss_mb']} / {entry['evaluate_peak_rss_mb']} MB",
            flush=True,
        )
        record["models"].append(entry)
        del model
    oracle = _oracle(dataset, folder, data, end)
    if oracle is not None:
        entry = {"model": "oracle"}
        with rss.phase(entry, "evaluate"):
            metrics.append(evaluate([oracle], data, truth))
        record["models"].append(entry)
    record["peak_rss_mb"] = round(rss.stop())
    table = pd.concat(metrics, ignore_index=True)
    record["metrics"] = table.astype({"k": object}).where(table.notna(), None).to_dict(orient="records")
    for unit in ("seconds", "cpu_seconds"):
        record[f"total_{unit}"] = round(
            record[f"load_{unit}"] + sum(m.get(f"fit_{unit}", 0) + m[f"evaluate_{unit}"] for m in record["models"]), 1
        )
    record["load_average_after"] = list(psutil.getloadavg())
    return record


def _oracle(dataset: str, folder: Path, data: InteractionData, end: dt.date | None):
    if dataset != "lpoint" or not jobs._truth_matches(folder / "truth", data.customer_ids):
        return None
    from loyalty_analytics.recommenders.oracle import OracleRecommender

    return OracleRecommender(folder / "truth", end).fit(data)


# ---------------------------------------------------------------------------- report
def markdown(record: dict) -> str:
    table = pd.DataFrame(record["metrics"])
    out = [
        f"# Recommenders on {record['dataset']} — {record['started']}",
        "",
        f"`python -m bench.large_catalogue --dataset {record['dataset']}` (seed {record['seed']}, torch threads of "
        f"the neural models: {record['torch_threads']})",
        "",
        f"{record['n_customers']:,} customers, {record['n_products']:,} products ({record['n_products_sold']:,} "
        f"bought before the cut), {record['n_history_lines']:,} history lines in {record['n_sessions']:,} "
        f"sessions, {record['n_truth_pairs']:,} (customer, product) pairs after the cut {record['cut_date']}. "
        f"Customer attributes: {', '.join(record['customer_attributes']) or 'none'}; category levels: "
        f"{', '.join(record['category_levels']) or 'none'}.",
        "",
        f"Loading the files into InteractionData: {record['load_seconds']} s. Whole run: "
        f"{record['total_seconds']} s ({record['total_cpu_seconds']} CPU s), peak RSS {record['peak_rss_mb']:,} MB. "
        "Load average before "
        f"{_loads(record['load_average_before'])}, after {_loads(record['load_average_after'])}.",
        "",
        "| model | fit s (CPU s) | fit peak RSS MB | evaluate s (CPU s) | evaluate peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for m in record["models"]:
        fit = f"{m['fit_seconds']} ({m['fit_cpu_seconds']})" if "fit_seconds" in m else ""
        out.append(
            f"| {m['model']} | {fit} | {m.get('fit_peak_rss_mb', '')} | "
            f"{m['evaluate_seconds']} ({m['evaluate_cpu_seconds']}) | {m['evaluate_peak_rss_mb']} |"
        )
    for metric, k in (("ndcg", 10), ("hit_rate", 10), ("recall", 10), ("auc", None)):
        sel = table[(table["metric"] == metric) & (table["k"].isna() if k is None else table["k"] == k)]
        pivot = sel.pivot_table(index="model_name", columns="split", values="value", sort=False)
        counts = sel.groupby("split")["n_customers"].max()
        per_split = ", ".join(f"{s} {int(counts.get(s, 0)):,}" for s in ("all_items", "new_items", "new_items_sparse"))
        out += [
            "",
            f"{metric}{'@' + str(k) if k else ''} (customers per split: {per_split})",
            "",
            "| model | all_items | new_items | new_items_sparse |",
            "|---|---|---|---|",
        ]
        for name, row in pivot.iterrows():
            out.append(
                f"| {name} | "
                + " | ".join(_fmt(row.get(s)) for s in ("all_items", "new_items", "new_items_sparse"))
                + " |"
            )
    return "\n".join(out) + "\n"


def _fmt(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4f}"


def _loads(values) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(LOADERS), required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="the folder holding the dataset's files")
    parser.add_argument("--seed", type=int, default=42, help="random_state of every model (the pipeline's default)")
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument(
        "--threads", type=int, help="torch threads of the neural models (default: the jobs' setting, 2)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    record = run(args.dataset, args.data_dir, args.seed, args.models.split(",") if args.models else None, args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"large_catalogue_{args.dataset}"
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(record), encoding="utf-8")
    print(markdown(record))


if __name__ == "__main__":
    main()
