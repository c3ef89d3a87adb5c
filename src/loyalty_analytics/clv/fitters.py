"""lifetimes' BG/NBD and Gamma-Gamma fitters with one change: a BFGS "precision loss" stop is
accepted when the gradient is ~0 (below ``GRADIENT_TOL``); any other optimiser failure still
raises ``ConvergenceError``, now saying why. Pareto/NBD (its own Nelder-Mead) is unchanged.
Also :func:`quiet`, the context every lifetimes call here runs in.

Why, and what else lifetimes 0.11.3 does on pandas 3 / numpy 2: docs/clv.md, "lifetimes notes".
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
from scipy.optimize import minimize

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes.utils sets a pandas option pandas 3 deprecates
    import lifetimes
    from autograd import hessian, value_and_grad
    from lifetimes import ParetoNBDFitter
    from lifetimes.utils import ConvergenceError

__all__ = [
    "GRADIENT_TOL",
    "BetaGeoFitter",
    "ConvergenceError",
    "GammaGammaFitter",
    "ParetoNBDFitter",
    "converged",
    "quiet",
]

GRADIENT_TOL = 1e-4  # max |gradient| of the (mean) negative log-likelihood at an accepted stop
_PRECISION_LOSS = 2  # scipy.optimize BFGS status


def converged(result) -> bool:
    """scipy result at an optimum: success, or a precision-loss stop with a ~0 gradient."""
    if result.success:
        return True
    jac = np.asarray(getattr(result, "jac", np.nan), dtype=float)
    return (
        result.status == _PRECISION_LOSS
        and bool(np.all(np.isfinite(result.x)))
        and bool(np.all(np.isfinite(jac)))
        and float(np.max(np.abs(jac))) < GRADIENT_TOL
    )


class _ToleratePrecisionLoss:
    """``BaseFitter._fit`` of lifetimes 0.11.3, with :func:`converged` as the success test."""

    def _fit(self, minimizing_function_args, initial_params, params_size, disp, tol=1e-7, bounds=None, **kwargs):
        x0 = 0.1 * np.ones(params_size) if initial_params is None else initial_params
        result = minimize(
            value_and_grad(self._negative_log_likelihood),
            jac=True,
            method=None,
            tol=tol,
            x0=x0,
            args=minimizing_function_args,
            options={"disp": disp, **kwargs},
            bounds=bounds,
        )
        if not converged(result):
            gradient = np.max(np.abs(np.asarray(getattr(result, "jac", np.nan), dtype=float)))
            raise ConvergenceError(
                f"{type(self).__name__} did not converge: {result.message} (status {result.status}, "
                f"max |gradient| {gradient:.3g}). Try a larger penalizer."
            )
        return result.x, result.fun, hessian(self._negative_log_likelihood)(result.x, *minimizing_function_args)


class BetaGeoFitter(_ToleratePrecisionLoss, lifetimes.BetaGeoFitter):
    pass


class GammaGammaFitter(_ToleratePrecisionLoss, lifetimes.GammaGammaFitter):
    pass


@contextlib.contextmanager
def quiet():
    """lifetimes prints the scipy result on non-convergence and emits overflow RuntimeWarnings
    while the optimiser explores; keep both out of dbt logs (failures still raise)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
