"""What happens to the raw folder: demo data is generated only into a folder that is missing,
empty, or marked as the generator's (generator/marker.py); any other folder is read as it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loyalty_analytics.contract import LPOINT
from loyalty_analytics.generator import marker


@dataclass
class RawFolderPlan:
    action: str  # "generate", "reuse" (complete generated files) or "use" (files as they are)
    message: str


def raw_folder_plan(raw_dir: Path) -> RawFolderPlan:
    """What happens to the raw folder without --regenerate. Demo data is generated only into
    a missing or empty folder, or one whose generation was stopped half way (its marker says
    incomplete); any other folder is read as it is, and the ingest check names missing files."""
    raw_dir = Path(raw_dir)
    if not marker.user_entries(raw_dir):
        return RawFolderPlan("generate", f"No raw files in {raw_dir}: generating demo data.")
    found = marker.read_marker(raw_dir)
    if found is None:
        return RawFolderPlan(
            "use", f"Using the raw files in {raw_dir} (not written by the generator: they are read, never changed)."
        )
    if not found.get("complete"):
        return RawFolderPlan("generate", f"{raw_dir} holds a generator run that was stopped: generating again.")
    generated = [
        name
        for name in LPOINT.files
        if (raw_dir / name).is_file() and marker.written_by_generator(raw_dir, name, found)
    ]
    if len(generated) == len(LPOINT.files):
        return RawFolderPlan(
            "reuse",
            f"Reusing the generated files in {raw_dir} ({found.get('customers')} "
            f"customers, seed {found.get('seed')}); pass --regenerate for new ones.",
        )
    # e.g. real files copied over some of the demo files: say which are still demo data
    still_demo = f" Still generated demo data: {', '.join(generated)}." if generated else ""
    return RawFolderPlan(
        "use",
        f"Using the raw files in {raw_dir} (some are missing or changed since the generator "
        f"wrote them: they are read, never replaced).{still_demo}",
    )
