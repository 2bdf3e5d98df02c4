"""The probit and cloglog links' compiled pieces are accurate on the whole real line.

References: SciPy's ``log_ndtr`` (probit) and the direct formulas ``log(-expm1(-e^η))``,
``-e^η``, exact in double precision where they are evaluated (cloglog); the derivatives against
central differences of the compiled values.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_ndtr

from hierbayes.families import get_family, links
from hierbayes.families.links import cloglog_derivs, cloglog_log, probit_derivs, probit_log

ETA = np.array([-60.0, -38.0, -30.5, -29.5, -12.0, -3.0, -0.2, 0.0, 0.7, 2.0, 4.0, 9.0, 35.0])


def _probit(x):
    return log_ndtr(x), log_ndtr(-x)


def _cloglog(x):
    u = np.exp(x)
    return (np.log1p(-np.exp(-u)) if u > 1 else np.log(-np.expm1(-u))), -u


@pytest.mark.parametrize(("log", "reference"), [(probit_log, _probit), (cloglog_log, _cloglog)])
def test_log_probabilities_are_accurate_in_the_tails(log, reference):
    for x in ETA:
        a, _, b, _ = log(float(x))
        ra, rb = reference(float(x))
        assert a == pytest.approx(ra, rel=1e-13, abs=1e-300)
        assert b == pytest.approx(rb, rel=1e-13, abs=1e-300)


@pytest.mark.parametrize(
    ("derivs", "log"), [(probit_derivs, probit_log), (cloglog_derivs, cloglog_log)]
)
@pytest.mark.parametrize("x", [-35.0, -8.0, -1.3, 0.0, 0.9, 3.0])
def test_derivatives_are_derivatives_in_the_tails_too(derivs, log, x):
    # five-point differences with h = 1e-3: truncation ~h⁴, and the rounding of the tails'
    # values (relative 1e-14 of numbers near 30) stays far below the tolerance
    h = 1e-3

    def diff(f):
        values = [np.array(f(x + k * h)) for k in (-2, -1, 1, 2)]
        return (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)

    got = np.array(derivs(x))
    fd = diff(derivs)  # second and third derivatives from the first and second
    np.testing.assert_allclose(got[[1, 2, 4, 5]], fd[[0, 1, 3, 4]], rtol=1e-6, atol=1e-9)
    fd_log = diff(log)
    np.testing.assert_allclose(got[[0, 3]], fd_log[[0, 2]], rtol=1e-6, atol=1e-9)
    assert log(x)[1] == pytest.approx(got[0], rel=1e-12)  # the sampler's gradient is the same
    assert log(x)[3] == pytest.approx(got[3], rel=1e-12)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_numpy_forms_agree_with_the_compiled_ones(link):
    compiled = probit_log if link == "probit" else cloglog_log
    a, b = links.log_cdf(link, ETA)
    expected = np.array([compiled(float(x)) for x in ETA])
    np.testing.assert_allclose(a, expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(b, expected[:, 2], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(links.inverse_link(link, ETA), np.exp(a), rtol=1e-12, atol=1e-300)
    h = 1e-6
    fd = (links.inverse_link(link, ETA + h) - links.inverse_link(link, ETA - h)) / (2 * h)
    np.testing.assert_allclose(links.d_inverse_link(link, ETA), fd, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_pytensor_logit_p_is_log_p_minus_log_1mp(link):
    # (PyMC's Bernoulli then turns it into p, so its own tails are PyMC's; the kernel's are ours)

    eta = np.array([-40.0, -6.0, -0.5, 0.0, 1.5, 7.0, 30.0])
    a, b = links.log_cdf(link, eta)
    logit_p = links.pytensor_logit_p(link, eta).eval()
    np.testing.assert_allclose(logit_p, a - b, rtol=1e-12)


def test_latent_variances_are_nakagawas():
    group_var = np.ones((2, 1))
    values = {
        link: get_family("bernoulli", link).latent_variance(None, group_var, {})[0, 0]
        for link in ("logit", "probit", "cloglog")
    }
    assert values == pytest.approx({"logit": np.pi**2 / 3, "probit": 1.0, "cloglog": np.pi**2 / 6})
