"""Writing into the prepared folder: never a half-written file under its final name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def atomic_target(out: Path) -> Path:
    """A temporary name beside `out`; the caller moves it into place with os.replace."""
    return out.with_name(f".{out.name}.tmp-{os.getpid()}")


def link(src: Path, out: Path) -> str:
    """Symlink out -> src (absolute); fall back to a hardlink, then to a copy. Says which."""
    tmp = atomic_target(out)
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(src.resolve(), tmp)
        how = "linked (symlink)"
    except OSError:
        try:
            os.link(src, tmp)
            how = "linked (hardlink)"
        except OSError:
            shutil.copyfile(src, tmp)
            how = "copied"
    os.replace(tmp, out)
    return how
