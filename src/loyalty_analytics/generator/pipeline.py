"""generate(): catalogue -> customers -> trips -> receipts/lines -> CSV files + ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import marker
from . import params as P
from .catalog import build_catalog
from .customers import build_customers, simulate_trips
from .purchases import build_receipts
from .truth import write_truth
from .writer import FILES, write_all

TRUTH_FILES = ("customers.parquet", "products.parquet", "manifest.json")  # what write_truth writes


def hash_salt(seed: int) -> int:
    return int(np.random.SeedSequence([seed, 0x5EED]).generate_state(2, np.uint64)[0])


def output_files(raw_dir: Path, truth_dir: Path) -> dict[Path, list[str]]:
    """Folder -> the files the generator writes there (one entry if both are the same folder)."""
    outputs: dict[Path, list[str]] = {}
    for folder, names in ((raw_dir, [name for name, _ in FILES.values()]), (truth_dir, list(TRUTH_FILES))):
        outputs.setdefault(Path(folder).resolve(), []).extend(names)
    return outputs


def generate(customers: int, seed: int, raw_dir, truth_dir, log=None) -> dict:
    """Write the six raw files into raw_dir and the planted truth into truth_dir.

    Raises marker.OutputFolderError, before writing anything, if a folder holds files the
    generator did not write (see marker.py); marks both folders as the generator's."""
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    outputs = output_files(raw_dir, truth_dir)
    marker.check_writable(outputs)
    marker.begin(outputs, seed, customers)
    say = log or (lambda msg: None)
    t0 = time.perf_counter()
    steps = {}

    def step(name, t):
        steps[name] = round(time.perf_counter() - t, 3)
        say(f"[generator] {name:<10} {steps[name]:7.2f}s  (total {time.perf_counter() - t0:6.2f}s)")

    ss = np.random.SeedSequence(seed)
    r_cat, r_cust, r_trip, r_purch = (np.random.default_rng(s) for s in ss.spawn(4))
    salt = hash_salt(seed)

    t = time.perf_counter()
    cat = build_catalog(r_cat)
    step("catalog", t)
    t = time.perf_counter()
    c = build_customers(int(customers), r_cust)
    step("customers", t)
    t = time.perf_counter()
    trips, life = simulate_trips(c, r_trip)
    step("trips", t)
    t = time.perf_counter()
    rec, lines, outside = build_receipts(cat, c, trips, life, r_purch, salt)
    step("baskets", t)
    t = time.perf_counter()
    counts = write_all(raw_dir, cat, c, rec, lines, outside)
    step("write_csv", t)

    t = time.perf_counter()
    summary = {
        "seed": int(seed),
        "customers": int(customers),
        "rows": counts,
        "receipts_retail": int((rec.aff < P.N_RETAIL).sum()),
        "customers_without_purchase": int((life.n_trips == 0).sum()),
        "customers_alive_at_end": int(((life.dropout_day < 0) & (life.n_trips > 0)).sum()),
        "lpay_customers": int(len(np.unique(np.concatenate([rec.cust[rec.lpay], outside["cust"]])))),
        "online_line_share": float(rec.online[lines.receipt].mean()) if len(lines.receipt) else 0.0,
        "hash_salt": salt,
        "files": {k: v[0] for k, v in FILES.items()},
    }
    manifest = dict(summary, parameters=P.as_dict(), step_seconds=steps)
    write_truth(truth_dir, cat, c, life, manifest)
    step("truth", t)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    manifest["generation_seconds"] = summary["seconds"]
    manifest["step_seconds"] = steps
    # rewrite manifest with the final timing (a tiny file)
    import json

    from .truth import _js

    (truth_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=_js), encoding="utf-8"
    )
    marker.finish(outputs, seed, customers)
    return summary
