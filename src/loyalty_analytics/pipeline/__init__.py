"""The main job, stage by stage: generate demo data (if no raw files) → ingest checks →
dbt seed + build → validate and publish. Used by `make demo`, the tests and the benchmark.

Each stage runs as a child process so its wall time and peak memory (max RSS) can be
reported on their own; the summary is printed and returned.

Safety (docs/bad_input.md, "Your files and folders are never overwritten; kill and rerun"):

* demo data is generated only into a raw folder that is missing, empty, or marked as the
  generator's (generator/marker.py); a folder of other files is used as it is, and a partial
  set stops at the ingest check that names the missing files;
* each stage runs in its own process group: SIGTERM / SIGINT (Ctrl-C) to the pipeline is
  forwarded to the group, and the group is killed when the pipeline stops for any reason. On
  Linux the stage also gets PR_SET_PDEATHSIG, so even a SIGKILL of the pipeline kills it;
* a warehouse file locked by another process stops the run before the stage that needs it,
  with one line naming the file and the holder's PID.
"""

# Modules: layout (where a dataset's files go), raw_folder (generate or use the raw folder),
# stages + processes (one stage as a child process that dies with the pipeline), lock (the
# warehouse lock check), runner (run()), summary (what is printed after a build), cli.
from .cli import main
from .layout import DATASETS, Layout, dbt_vars
from .lock import warehouse_in_use
from .processes import Interrupted
from .raw_folder import RawFolderPlan, raw_folder_plan
from .runner import run
from .stages import PipelineReport, StageResult, run_stage
from .stages import _bin as _bin  # bench/run.py runs dbt with it
from .summary import print_quarantine_counts, print_summary

__all__ = [
    "DATASETS",
    "Interrupted",
    "Layout",
    "PipelineReport",
    "RawFolderPlan",
    "StageResult",
    "dbt_vars",
    "main",
    "print_quarantine_counts",
    "print_summary",
    "raw_folder_plan",
    "run",
    "run_stage",
    "warehouse_in_use",
]
