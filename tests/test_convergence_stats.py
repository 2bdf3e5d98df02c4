"""The population parameters' R-hat and ESS, computed once per variable and shared by the
checks after sampling: the same numbers as ArviZ evaluated one coefficient at a time."""

from __future__ import annotations

import gc

import arviz_stats as az
import numpy as np
import pytest
import xarray as xr

from hierbayes import convergence_stats
from hierbayes.convergence_stats import STATISTICS, row_statistic, variable_statistic
from hierbayes.course import trouble
from hierbayes.course_extend import convergence_rows, min_bulk_ess
from hierbayes.diagnostics import _rows, check_convergence
from hierbayes.errors import HierbayesError


def _posterior(seed: int = 0) -> xr.Dataset:
    """Autocorrelated draws (AR(1) chains, one chain shifted) of every kind of population row."""
    rng = np.random.default_rng(seed)
    chains, draws = 4, 300

    def ar(*shape: int) -> np.ndarray:
        x = rng.normal(size=(chains, draws, *shape))
        for t in range(1, draws):
            x[:, t] += 0.7 * x[:, t - 1]
        return x

    b = ar(3)
    b[0, :, 2] += 0.5  # one chain elsewhere: an R-hat over 1.01
    cor = np.ones((chains, draws, 2, 2))
    cor[..., 0, 1] = cor[..., 1, 0] = np.tanh(ar())
    terms = ["Intercept", "x"]
    return xr.Dataset(
        {
            "b": (("chain", "draw", "term"), b, {}),
            "sd|g": (("chain", "draw", "g__term"), np.exp(ar(2))),
            "cor|g": (("chain", "draw", "g__term", "g__term_bis"), cor),
            "sigma": (("chain", "draw"), np.exp(ar())),
            "u|g": (("chain", "draw", "g", "g__term"), ar(5, 2)),
        },
        coords={
            "term": ["Intercept", "x", "z"],
            "g__term": terms,
            "g__term_bis": terms,
            "g": list("abcde"),
        },
    )


def test_each_row_has_arviz_numbers_of_its_coefficient_alone():
    posterior = _posterior()
    rows = _rows(posterior)
    assert [v for v, _, _ in rows] == ["b", "b", "b", "sd|g", "sd|g", "cor|g", "sigma"]
    for var, coords, da in rows:
        for statistic, compute in STATISTICS.items():
            assert row_statistic(posterior, var, coords, statistic) == float(compute(da))


def test_checks_after_sampling_report_arviz_numbers():
    posterior = _posterior(1)
    idata = xr.DataTree.from_dict({"posterior": posterior})
    table = check_convergence(idata, emit=False).table
    rows = _rows(posterior)
    expected = {v + ("[" + ", ".join(c.values()) + "]" if c else ""): da for v, c, da in rows}
    assert list(table.index) == list(expected)
    for label, da in expected.items():
        assert table.loc[label, "r_hat"] == float(az.rhat(da))
        assert table.loc[label, "ess_bulk"] == float(az.ess(da))
        assert table.loc[label, "ess_tail"] == float(az.ess(da, method="tail"))
    rhat = {label: float(az.rhat(da)) for label, da in expected.items()}
    assert dict(trouble(idata).rhat) == {k: v for k, v in rhat.items() if v > 1.01}
    assert "b[z]" in dict(trouble(idata).rhat)
    bulk = [float(az.ess(da)) for da in expected.values()]
    assert convergence_rows(idata) == [
        (r, e) for r, e in zip(rhat.values(), bulk, strict=True) if np.isfinite(r)
    ]
    assert min_bulk_ess(idata) == min(e for e in bulk if np.isfinite(e))


def test_a_variable_is_computed_once_while_its_draws_live():
    posterior = _posterior(2)
    first = variable_statistic(posterior["b"], "rhat")
    assert variable_statistic(posterior["b"], "rhat") is first  # shared, not recomputed
    changed = posterior.copy(deep=True)  # other draws: other numbers
    changed["b"].values[:, :, 0] = np.random.default_rng(3).normal(size=(4, 300))
    assert variable_statistic(changed["b"], "rhat") is not first
    other = _posterior(4)
    key = (id(other["sigma"].values), (4, 300), ("chain", "draw"), "ess_tail")
    variable_statistic(other["sigma"], "ess_tail")
    assert key in convergence_stats._CACHE
    del other  # its draws are freed: their entry goes with them
    gc.collect()
    assert key not in convergence_stats._CACHE


def test_unknown_statistic_is_named():
    with pytest.raises(HierbayesError, match="Unknown statistic 'mcse'"):
        variable_statistic(_posterior()["b"], "mcse")
