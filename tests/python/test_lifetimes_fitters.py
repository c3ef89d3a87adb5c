"""The BG/NBD and Gamma-Gamma wrappers: identical to lifetimes when BFGS succeeds, and a
precision-loss stop is accepted only at a ~0 gradient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

from loyalty_analytics.clv import fitters as lf

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary_data_with_monetary_value()


def test_same_parameters_as_lifetimes_when_bfgs_succeeds(cdnow):
    ours = lf.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    theirs = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_array_equal(ours.params_.to_numpy(), theirs.params_.to_numpy())
    repeat = cdnow[cdnow["frequency"] > 0]
    gg = lf.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    gg_ref = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_array_equal(gg.params_.to_numpy(), gg_ref.params_.to_numpy())


@pytest.mark.parametrize(
    "status, success, jac, accepted",
    [
        (0, True, [5.0, 5.0], True),  # scipy says success
        (2, False, [2e-7, -1e-7], True),  # precision loss at an optimum
        (2, False, [3e-2, 0.0], False),  # precision loss far from an optimum
        (2, False, [np.nan, 0.0], False),
        (1, False, [1e-9, 0.0], False),  # iteration limit: never accepted
    ],
)
def test_converged(status, success, jac, accepted):
    result = OptimizeResult(x=np.array([0.1, 0.2]), status=status, success=success, jac=np.array(jac))
    assert lf.converged(result) is accepted


def _precision_loss(jac_scale):
    """minimize() that runs the real optimiser and then reports a precision-loss stop."""
    real = lf.minimize

    def fake(*args, **kwargs):
        result = real(*args, **kwargs)
        result.success, result.status, result.message = False, 2, "Desired error not necessarily achieved"
        result.jac = np.full_like(result.x, jac_scale)
        return result

    return fake


def test_precision_loss_at_the_optimum_is_accepted(cdnow, monkeypatch):
    expected = lf.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"]).params_
    monkeypatch.setattr(lf, "minimize", _precision_loss(1e-7))
    fitted = lf.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_array_equal(fitted.params_.to_numpy(), expected.to_numpy())


def test_precision_loss_away_from_the_optimum_raises(cdnow, monkeypatch):
    monkeypatch.setattr(lf, "minimize", _precision_loss(0.5))
    with pytest.raises(lf.ConvergenceError, match="precision|status 2"):
        lf.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
