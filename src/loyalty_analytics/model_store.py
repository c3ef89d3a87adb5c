"""Versioned model artifacts on disk: ``<models_dir>/<model_name>/<version>/`` holding
``metadata.json`` and the weights (``weights.npz`` for numpy models, ``weights.pt`` — a
``torch.save`` of a dict of tensors — for torch models).

* **version** = package version + a short hash of (model name, hyper-parameters, random_state,
  data fingerprint, cut date, model code): equal inputs give the equal version; a new seed, new
  data or changed model code a new one. It is known before fitting, so a caller can reuse a stored
  version instead of refitting.
* **atomic**: an artifact is written into a temporary sibling folder and renamed into place, so a
  reader never sees half an artifact; an existing version is reused, never rewritten.
* **no pickles**: weights are read back with ``np.load(allow_pickle=False)`` or
  ``torch.load(weights_only=True)``; the class to rebuild is named in the metadata and must
  live in this package.

Nothing here knows about recommenders; ``recommenders.base`` builds on it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import __version__, paths

METADATA_FILE = "metadata.json"
# what every artifact's metadata.json says about the model (tests check the list)
METADATA_FIELDS = (
    "model_name",
    "version",
    "class",
    "params",
    "random_state",
    "data_fingerprint",
    "cut_date",
    "trained_at",
    "fit_seconds",
    "sizes",
    "vocabularies",
    "package_version",
)
_PACKAGE = __name__.split(".")[0]


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default)


def fingerprint(*parts) -> str:
    """Short SHA-1 of strings, bytes and numpy arrays (array bytes in C order, with dtype and shape)."""
    digest = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            if part.dtype == object:
                part = part.astype(str)
            digest.update(f"{part.dtype.str}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, bytes):
            digest.update(part)
        else:
            digest.update(str(part).encode())
        digest.update(b"\x1f")  # separator: ("ab", "c") and ("a", "bc") differ
    return digest.hexdigest()[:12]


@functools.cache
def code_fingerprint() -> str:
    """Hash of the model code (every module of ``loyalty_analytics.recommenders`` and this one):
    a changed fit gives a new version even when ``__version__`` was not bumped, so a rebuild
    never re-applies a model that the current code would fit differently."""
    package = Path(__file__).resolve().parent
    files = sorted((package / "recommenders").glob("*.py")) + [Path(__file__).resolve()]
    return fingerprint(*(path.read_bytes() for path in files))


def artifact_version(model_name: str, params: dict, random_state, data_fingerprint: str, cut_date) -> str:
    """``<package version>+<10 hex>`` from everything that determines the fitted model: its
    name, hyper-parameters, random_state, data, cut date and the model code."""
    key = _canonical_json([model_name, params, random_state, data_fingerprint, str(cut_date), code_fingerprint()])
    return f"{__version__}+{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def artifact_dir(model_name: str, version: str, root: str | Path | None = None) -> Path:
    return Path(root or paths.models_dir()) / model_name / version


def is_stored(path: str | Path) -> bool:
    return (Path(path) / METADATA_FILE).is_file()


def read_metadata(path: str | Path) -> dict:
    return json.loads((Path(path) / METADATA_FILE).read_text(encoding="utf-8"))


def write_artifact(path: str | Path, metadata: dict, write_weights: Callable[[Path], None]) -> bool:
    """Write ``metadata`` and the weights (``write_weights(folder)``) to ``path`` atomically.
    Returns False, writing nothing, when the version is already stored."""
    path = Path(path)
    if is_stored(path):
        return False
    missing = [name for name in METADATA_FIELDS if name not in metadata]
    if missing:
        raise ValueError(f"metadata lacks {missing}")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    try:
        write_weights(staging)
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=1, default=_json_default), encoding="utf-8")
        os.rename(staging, path)  # atomic; fails if another writer got there first
    except OSError:
        if not is_stored(path):
            raise
        return False  # a concurrent writer stored the same version
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def load_artifact(path: str | Path):
    """The stored model, rebuilt by the ``load`` classmethod of the class its metadata names."""
    qualified = read_metadata(path)["class"]
    module_name, _, class_name = qualified.rpartition(".")
    if module_name.split(".")[0] != _PACKAGE:
        raise ValueError(f"{path}: refusing to load class {qualified!r} from outside {_PACKAGE}")
    return getattr(importlib.import_module(module_name), class_name).load(path)
