"""Posterior draws are selected by label, never by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from fakes import fake_fit

import hierbayes as hb
from hierbayes.fit import Fit
from hierbayes.predict.draws import posterior_draws


def test_draws_follow_labels_not_positions() -> None:
    data = pd.DataFrame({"y": np.arange(8.0), "x": np.linspace(0, 1, 8), "g": list("aabbccdd")})
    fit = fake_fit(hb.Model("y ~ x + (1 + x | g)", data=data), draws=20)
    posterior = fit.idata["posterior"].to_dataset()
    shuffled = posterior.isel(g=[3, 1, 0, 2], term=[1, 0], g__term=[1, 0], g__term_bis=[1, 0])
    tree = fit.idata.copy()
    tree["posterior"] = xr.DataTree(shuffled)
    other = Fit(idata=tree, model=fit.model, diagnostics=fit.diagnostics, sampler=fit.sampler)
    a, b = posterior_draws(fit), posterior_draws(other)
    np.testing.assert_array_equal(a.b, b.b)
    np.testing.assert_array_equal(a.u["g"], b.u["g"])
    np.testing.assert_array_equal(a.sd["g"], b.sd["g"])
    np.testing.assert_array_equal(a.cor["g"], b.cor["g"])
    np.testing.assert_array_equal(
        a.u["g"][:, :, 3, 0], posterior["u|g"].sel(g="d", g__term="Intercept").values
    )
