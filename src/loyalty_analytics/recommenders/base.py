"""What every stored recommender shares (scikit-learn / implicit conventions).

* Hyper-parameters and ``random_state`` are the ``__init__`` arguments, kept under their own
  names (``get_params``); ``fit(data)`` learns, and everything it learns ends in ``_``.
* ``fit`` is a template: the class's ``_fit(data)`` does the work, then the training record is
  kept: ``customer_ids_`` / ``product_codes_`` / ``affiliate_codes_`` (the index vocabularies a
  stored model needs to be applied), ``cut_date_``, ``data_fingerprint_``, ``n_*_`` sizes,
  ``trained_at_``, ``fit_seconds_`` and ``version_``. Fits run one at a time under
  ``torch_utils.SESSION_LOCK``.
* ``save(path)`` writes ``metadata.json`` + weights through ``loyalty_analytics.model_store``
  (atomic, versioned); ``load(path)`` (classmethod) rebuilds the model from its ``params`` and
  ``_set_weights``, like implicit's ``RecommenderBase.save`` / ``load``. A class says what
  its weights are (``_weights``: name → numpy array, or torch tensors for ``weights.pt``) and
  which learned figures go into the metadata (``_summary_attributes``).
"""

from __future__ import annotations

import datetime as dt
import inspect
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from loyalty_analytics import __version__, model_store

from .data import InteractionData, to_date

__all__ = ["RecommenderBase", "data_fingerprint", "pack_csr", "unpack_csr"]

# hyper-parameters that do not change what is learned (left out of the version)
_NOT_VERSIONED = frozenset({"verbose"})


def data_fingerprint(data: InteractionData) -> str:
    """Short hash of everything a recommender can learn from: history lines, vocabularies,
    features (attribute and category names and codes), assortment, preference scores and the cut
    date (cached on ``data``). Lines and preference rows are hashed in a canonical order: the
    warehouse returns lines that tie on (customer, session, time, product) in any order, and the
    same data must keep its version."""
    if "fingerprint" not in data._cache:
        parts = [
            str(data.cut_date),
            data.customer_ids,
            data.product_codes,
            data.affiliate_codes,
            data.assortment,
            *_canonical_columns(data.lines),
            *data.customer_features.columns,
            *data.product_features.columns,
            *(
                frame[column].to_numpy()
                for frame in (data.customer_features, data.product_features)
                for column in frame.columns
            ),
        ]
        if data.preference is not None:
            parts += _canonical_columns(data.preference)
        data._cache["fingerprint"] = model_store.fingerprint(*parts)
    return data._cache["fingerprint"]


def _canonical_columns(frame) -> list[np.ndarray]:
    """The frame's columns with the rows sorted by every column (first column first)."""
    columns = [frame[column].to_numpy() for column in frame.columns]
    order = np.lexsort(columns[::-1])
    return [column[order] for column in columns]


def pack_csr(name: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A csr matrix as plain arrays for ``weights.npz``."""
    return {
        f"{name}.data": matrix.data,
        f"{name}.indices": matrix.indices,
        f"{name}.indptr": matrix.indptr,
        f"{name}.shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def unpack_csr(name: str, weights: dict) -> sp.csr_matrix:
    return sp.csr_matrix(
        (weights[f"{name}.data"], weights[f"{name}.indices"], weights[f"{name}.indptr"]),
        shape=tuple(int(n) for n in weights[f"{name}.shape"]),
    )


def _write_weights(file: Path, weights: dict) -> None:
    if file.suffix == ".npz":
        np.savez(file, **weights)
    else:
        import torch

        torch.save(weights, file)


def _read_weights(file: Path) -> dict:
    if file.suffix == ".npz":
        with np.load(file, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    import torch

    return torch.load(file, weights_only=True)


class RecommenderBase:
    name: str  # model_name in the metrics, recommendations and registry tables
    weights_file = "weights.npz"  # "weights.pt" for torch models
    _summary_attributes: tuple[str, ...] = ()  # learned JSON-able figures kept in the metadata

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def _versioned_params(self) -> dict:
        return {name: value for name, value in self.get_params().items() if name not in _NOT_VERSIONED}

    def version_for(self, data: InteractionData) -> str:
        """The version ``fit(data)`` will get: known before fitting, so a stored one can be reused."""
        return model_store.artifact_version(
            self.name, self._versioned_params(), self.random_state, data_fingerprint(data), data.cut_date
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, data: InteractionData):
        """Fits run one at a time under torch_utils.SESSION_LOCK, as torch sessions do: torch's RNG
        and thread count and ALS's BLAS thread limit are process-wide, and a 2-thread torch fit
        sharing the 2 cores with another fit runs several times slower; the baselines' fits take
        about a second, so serialising them costs little. The lock is taken before the clock
        starts: ``fit_seconds_`` excludes waiting for it."""
        from .torch_utils import SESSION_LOCK  # here: numpy-only users import torch only to fit

        with SESSION_LOCK:
            started = time.perf_counter()
            self._fit(data)
            seconds = time.perf_counter() - started
        self._record_training(data, seconds)
        return self

    def _fit(self, data: InteractionData) -> None:
        raise NotImplementedError

    def _record_training(self, data: InteractionData, seconds: float) -> None:
        self.customer_ids_ = data.customer_ids
        self.product_codes_ = data.product_codes
        self.affiliate_codes_ = data.affiliate_codes
        self.cut_date_ = data.cut_date
        self.data_fingerprint_ = data_fingerprint(data)
        self.n_customers_, self.n_products_, self.n_affiliates_ = data.n_customers, data.n_products, data.n_affiliates
        self.n_history_lines_ = int(len(data.lines))
        self.trained_at_ = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.fit_seconds_ = float(seconds)
        self.version_ = self.version_for(data)

    def check_vocabularies(self, data: InteractionData) -> None:
        """A stored model scores by index: the data it is applied to must use its vocabularies."""
        for name in ("customer_ids", "product_codes", "affiliate_codes"):
            mine, theirs = np.asarray(getattr(self, name + "_"), dtype=str), np.asarray(getattr(data, name), dtype=str)
            if not np.array_equal(mine, theirs):
                raise ValueError(f"{self.name} {self.version_}: {name} differ from the data it is applied to")

    # ------------------------------------------------------------------ storage
    def _weights(self) -> dict:
        raise NotImplementedError

    def _set_weights(self, weights: dict) -> None:
        raise NotImplementedError

    def metadata(self) -> dict:
        return {
            "model_name": self.name,
            "version": self.version_,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": self.get_params(),
            "random_state": self.random_state,
            "data_fingerprint": self.data_fingerprint_,
            "cut_date": self.cut_date_.isoformat(),
            "trained_at": self.trained_at_.isoformat().replace("+00:00", "Z"),
            "fit_seconds": round(self.fit_seconds_, 3),
            "sizes": {
                "n_customers": self.n_customers_,
                "n_products": self.n_products_,
                "n_affiliates": self.n_affiliates_,
                "n_history_lines": self.n_history_lines_,
            },
            "vocabularies": {
                "customer_ids": self.customer_ids_.tolist(),
                "product_codes": self.product_codes_.tolist(),
                "affiliate_codes": self.affiliate_codes_.tolist(),
            },
            "fitted": {name: getattr(self, name) for name in self._summary_attributes},
            "weights_file": self.weights_file,
            "package_version": __version__,
        }

    def save(self, path: str | Path) -> Path:
        """Store the fitted model in the folder ``path`` (atomically; an existing one is kept)."""
        path = Path(path)
        model_store.write_artifact(
            path, self.metadata(), lambda folder: _write_weights(folder / self.weights_file, self._weights())
        )
        return path

    @classmethod
    def load(cls, path: str | Path):
        path = Path(path)
        meta = model_store.read_metadata(path)
        expected = f"{cls.__module__}.{cls.__qualname__}"
        if meta["class"] != expected:
            raise ValueError(f"{path} holds a {meta['class']}, not a {expected}")
        model = cls(**meta["params"])
        model._restore_training(meta)
        model._set_weights(_read_weights(path / meta["weights_file"]))
        return model

    def _restore_training(self, meta: dict) -> None:
        vocab = meta["vocabularies"]
        self.customer_ids_ = np.array(vocab["customer_ids"], dtype=object)
        self.product_codes_ = np.array(vocab["product_codes"], dtype=object)
        self.affiliate_codes_ = np.array(vocab["affiliate_codes"], dtype=object)
        self.cut_date_ = to_date(meta["cut_date"])
        self.data_fingerprint_ = meta["data_fingerprint"]
        sizes = meta["sizes"]
        self.n_customers_, self.n_products_ = sizes["n_customers"], sizes["n_products"]
        self.n_affiliates_, self.n_history_lines_ = sizes["n_affiliates"], sizes["n_history_lines"]
        self.trained_at_ = dt.datetime.fromisoformat(meta["trained_at"].replace("Z", "+00:00"))
        self.fit_seconds_ = float(meta["fit_seconds"])
        self.version_ = meta["version"]
        for name, value in meta["fitted"].items():
            setattr(self, name, value)
