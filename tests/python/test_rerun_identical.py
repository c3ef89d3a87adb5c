"""Two builds from the same raw files publish identical marts.

The second build runs in its own data folder from a copy of the first build's raw files (the
first is shared with the property test). Every published Parquet mart is compared exactly,
value for value, except what records the run itself: run timestamps, measured durations and
the build's own data folder in paths (each build has its own)."""

import duckdb
from generated_builds import RERUN_PAIR, generated_build, rebuild_from_same_raw_files

# run timestamps and wall-clock durations
RUN_COLUMNS = {
    "generated_at",
    "evaluated_at",
    "run_started_at",
    "published_at",
    "created_at",
    "trained_at",
    "fit_seconds",
}
# rows holding wall-clock durations in long tables (mart -> column naming the row, its value)
DURATION_ROWS = {"model_metrics": ("metric", "fit_seconds"), "clv_model_params": ("parameter", "fit_seconds")}


def _compared(con, mart: str, build) -> tuple[str, list[str]]:
    """SQL for the mart's rows and columns that must be reproducible, and those columns. Text
    naming the build's data folder (artifact paths) is compared with the folder written as <data>."""
    path = build.current / f"{mart}.parquet"
    described = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
    columns = [c for (c, *_rest) in described if c not in RUN_COLUMNS]
    text = {c for (c, kind, *_rest) in described if kind == "VARCHAR"}
    select = ", ".join(
        f"replace(\"{c}\", '{build.layout.data_dir}', '<data>') as \"{c}\"" if c in text else f'"{c}"' for c in columns
    )
    where = f"where {DURATION_ROWS[mart][0]} != '{DURATION_ROWS[mart][1]}'" if mart in DURATION_ROWS else ""
    return f"select {select} from read_parquet('{path}') {where}", columns


def _rows_only_in(con, left: str, right: str) -> int:
    return con.execute(f"select count(*) from ({left} except all {right})").fetchall()[0][0]


def differences(con, mart: str, first, second) -> list[str]:
    """Columns whose values differ (as multisets), then whole rows that differ; empty if equal."""
    sql_a, columns = _compared(con, mart, first)
    sql_b, columns_b = _compared(con, mart, second)
    if columns != columns_b:
        return [f"columns differ: {columns} vs {columns_b}"]
    found = []
    for column in columns:
        a, b = (f'select "{column}" from ({sql})' for sql in (sql_a, sql_b))
        n = _rows_only_in(con, a, b) + _rows_only_in(con, b, a)
        if n:
            sample = con.execute(f"select * from ({a} except all {b}) limit 1").fetchall()
            found.append(f"{column} ({n} values differ, e.g. {sample[0][0]!r})")
    n_rows = _rows_only_in(con, sql_a, sql_b) + _rows_only_in(con, sql_b, sql_a)
    if n_rows:
        row = con.execute(f"select * from ({sql_a} except all {sql_b}) limit 1").fetchall()[0]
        found.append(f"{n_rows} rows differ, e.g. {dict(zip(columns, row, strict=True))} in the first build")
    return found


def test_rebuild_from_same_raw_files_publishes_identical_marts(tmp_path_factory):
    seed, customers = RERUN_PAIR
    first = generated_build(tmp_path_factory, seed, customers)
    assert first.report.ok, f"first build failed: {first.report.stages}"
    second = rebuild_from_same_raw_files(tmp_path_factory, first, seed, customers)
    assert second.report.ok, f"second build failed: {second.report.stages}"
    marts = sorted(p.stem for p in first.current.glob("*.parquet"))
    assert marts == sorted(p.stem for p in second.current.glob("*.parquet"))
    assert len(marts) >= 10, marts
    con = duckdb.connect()
    found = {mart: differences(con, mart, first, second) for mart in marts}
    print(f"compared {len(marts)} marts: {', '.join(marts)}")
    assert not any(found.values()), "marts differ between two builds of the same raw files:\n" + "\n".join(
        f"  {mart}: {'; '.join(diff)}" for mart, diff in found.items() if diff
    )
