"""Which folders the generator may write into, and the marker that remembers what it wrote.

The generator writes only into a folder that does not exist, is empty, or holds its marker
file ``.generated-by-loyalty-analytics`` (JSON: seed, customers, complete, and per written file
its size and mtime). In a marked folder it replaces only the files the marker lists, and only
while they are unchanged since it wrote them; any other file is never touched. A file of the
generator's name that it did not write (or that changed since) makes it refuse before it writes
anything, so a user's real data is never overwritten.

The marker is written *before* the files (complete=false) and completed after them, so a
generation that is killed half way leaves a folder that is still recognisably the generator's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MARKER_NAME = ".generated-by-loyalty-analytics"


class OutputFolderError(Exception):
    """The generator would overwrite or mix with files it did not write."""


def read_marker(folder: Path) -> dict | None:
    """The folder's marker, or None when there is none (or it is unreadable: then the
    folder is treated as not the generator's)."""
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("files"), dict) else None


def user_entries(folder: Path) -> list[str]:
    """Names in the folder other than the marker (and its temporary file); [] if no folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name not in (MARKER_NAME, MARKER_NAME + ".tmp"))


def _stat(path: Path) -> dict:
    st = path.stat()
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def written_by_generator(folder: Path, name: str, marker: dict | None) -> bool:
    """True if `name` in `folder` is absent, or listed in the marker and unchanged since written.
    A listed file without recorded stats was being written when a run stopped: still ours."""
    path = Path(folder) / name
    if not path.exists() and not path.is_symlink():
        return True
    if marker is None or name not in marker["files"]:
        return False
    recorded = marker["files"][name]
    return not recorded or (not path.is_symlink() and path.is_file() and _stat(path) == recorded)


def check_writable(outputs: dict[Path, list[str]]) -> None:
    """Raise OutputFolderError unless every folder may receive its files (see module doc)."""
    for folder, names in outputs.items():
        folder = Path(folder)
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise OutputFolderError(f"refusing to write into {folder}: it is a file, not a folder")
        entries = user_entries(folder)
        if not entries:
            continue
        marker = read_marker(folder)
        if marker is None:
            shown = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
            raise OutputFolderError(
                f"refusing to write into {folder}: the folder is not empty ({shown}) and the generator "
                f"did not create it (no {MARKER_NAME} file). Use an empty or new folder, or move those files."
            )
        foreign = [n for n in names if not written_by_generator(folder, n, marker)]
        if foreign:
            raise OutputFolderError(
                f"refusing to write into {folder}: {', '.join(foreign)} was not written by the generator "
                f"or changed after it was (size or time differs from {MARKER_NAME}). "
                f"Move it away or use another folder."
            )


def _write_marker(folder: Path, content: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MARKER_NAME + ".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MARKER_NAME)


def begin(outputs: dict[Path, list[str]], seed: int, customers: int) -> None:
    """Claim the files about to be written (before writing them)."""
    for folder, names in outputs.items():
        _write_marker(
            Path(folder),
            {
                "generator": "loyalty_analytics.generator",
                "seed": int(seed),
                "customers": int(customers),
                "complete": False,
                "files": {name: None for name in names},
            },
        )


def finish(outputs: dict[Path, list[str]], seed: int, customers: int) -> None:
    """Record the written files' size and time, so later changes by anyone else show."""
    for folder, names in outputs.items():
        folder = Path(folder)
        _write_marker(
            folder,
            {
                "generator": "loyalty_analytics.generator",
                "seed": int(seed),
                "customers": int(customers),
                "complete": True,
                "files": {name: _stat(folder / name) for name in names},
            },
        )
