"""The validation outcome as plain data, and the readable summary printed by the CLIs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Failure:
    mart: str
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_unique
    column: str | None
    unexpected_count: int | None
    description: str = ""
    observed: object = None  # observed value for table-level expectations
    expected: object = None
    examples: list = field(default_factory=list)  # offending key values (or values)
    error: str | None = None  # the expectation raised instead of evaluating


@dataclass
class MartResult:
    mart: str
    rows: int
    evaluated: int
    passed: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


@dataclass
class ValidationReport:
    warehouse: str
    run_id: str
    success: bool
    marts: list[MartResult]
    notices: list[str]
    data_docs: str | None
    timings: dict[str, float]
    static_docs: str | None = None  # the offline index of the results (static_index.py)

    @property
    def failures(self) -> list[Failure]:
        return [f for m in self.marts for f in m.failures]

    @property
    def n_expectations(self) -> int:
        return sum(m.evaluated for m in self.marts)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["n_expectations"] = self.n_expectations
        d["n_failed"] = len(self.failures)
        return d


def _fmt_value(v) -> str:
    s = repr(v) if isinstance(v, str) else str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def format_summary(report: ValidationReport) -> str:
    lines = [
        f"Great Expectations validation of {report.warehouse}",
        f"run {report.run_id}: {len(report.marts)} marts, {report.n_expectations} expectations",
    ]
    width = max([len(m.mart) for m in report.marts] + [4])
    lines.append(f"  {'mart':<{width}}  {'rows':>10}  {'passed':>6}  {'failed':>6}")
    for m in report.marts:
        flag = "" if not m.failures else "  <-- FAILED"
        lines.append(f"  {m.mart:<{width}}  {m.rows:>10,}  {m.passed:>6}  {m.failed:>6}{flag}")
    if report.notices:
        lines.append("Notices:")
        lines += [f"  - {n}" for n in report.notices]
    if report.failures:
        lines.append("Failures:")
        for f in report.failures:
            col = f"column {f.column}" if f.column else "table"
            what = f"unexpected {f.unexpected_count:,}" if f.unexpected_count is not None else ""
            if f.observed is not None or f.expected is not None:
                observed = f"observed {_fmt_value(f.observed)}, expected {_fmt_value(f.expected)}"
                what = (what + "; " if what else "") + observed
            if f.error:
                what = (what + "; " if what else "") + f"error: {f.error}"
            lines.append(f"  x {f.mart}: {f.expectation} [{col}] {what}")
            if f.description:
                lines.append(f"      {f.description}")
            if f.examples:
                lines.append(f"      e.g. {', '.join(_fmt_value(e) for e in f.examples[:5])}")
    t = report.timings
    lines.append("Timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()))
    if report.data_docs:
        lines.append(f"Data Docs: {report.data_docs}")
    if report.static_docs:
        lines.append(f"Data Docs, offline (no JavaScript): {report.static_docs}")
    n_fail = len(report.failures)
    lines.append(
        "RESULT: PASSED"
        if report.success
        else f"RESULT: FAILED ({n_fail} of {report.n_expectations} expectations failed)"
    )
    return "\n".join(lines)
