"""Scalar helpers of the families' compiled log-likelihoods against numpy and scipy."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from hierbayes.families._math import log1pexp_expit


def test_log1pexp_expit_matches_numpy_everywhere():
    """Relative error below 1e-11 on both outputs from -745 to 745, through the switch to the
    series at exp(-|v|) = 1e-4 (|v| = 9.21)."""
    v = np.concatenate(
        [np.linspace(-745, 745, 4001), np.linspace(-9.3, -9.1, 401), np.linspace(9.1, 9.3, 401)]
    )
    v = np.concatenate([v, [0.0, -0.0, 1e-300, -1e-300, 36.7, -36.7]])
    got = np.array([log1pexp_expit(x) for x in v])
    np.testing.assert_allclose(got[:, 0], np.logaddexp(0.0, v), rtol=1e-11, atol=0)
    # scipy flushes subnormal probabilities (below 2.2e-308) to zero
    np.testing.assert_allclose(got[:, 1], expit(v), rtol=1e-11, atol=1e-300)


def test_log1pexp_expit_at_infinities():
    assert log1pexp_expit(np.inf) == (np.inf, 1.0)
    assert log1pexp_expit(-np.inf) == (0.0, 0.0)
