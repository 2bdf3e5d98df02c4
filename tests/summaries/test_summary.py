"""The order of summary()'s diagnostics: a cause before the remedy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr
from fakes import fake_fit

import hierbayes as hb
from hierbayes.diagnostics import add_model_notes, check_convergence
from hierbayes.uncentred_note import uncentred_slope_notes

_MORE_DRAWS = (
    "Effective sample size is low for the SD of age across g (sd|g[age]): bulk 250, tail 300 "
    "(want >= 400). Its mean and intervals are imprecise; draw more."
)
_EXTENDED = "The run mixed slowly (R-hat up to 1.020), so 4 more chains were sampled."


def _uncentred() -> hb.Model:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "age": np.tile([8.0, 10.0, 12.0, 14.0], 10),
            "g": np.repeat(list("abcdefghij"), 4),
        }
    )
    return hb.Model("y ~ age + (1 + age | g)", data)


def test_model_notes_come_before_what_sampling_recorded() -> None:
    model = _uncentred()
    (centre,) = uncentred_slope_notes(model.design)
    fit = fake_fit(model, draws=50)
    posterior = fit.idata["posterior"]
    posterior.attrs["sampling_notes"] = _EXTENDED  # what the run did, written while sampling
    add_model_notes(posterior, [centre])  # as Model.fit adds its notes afterwards
    notes = check_convergence(fit.idata, emit=False).notes
    assert notes.index(centre) < notes.index(_EXTENDED)
    assert centre.endswith("Centre it (a column age - 11) unless 0 is meant.")


def test_summary_lists_notes_before_warnings() -> None:
    model = _uncentred()
    (centre,) = uncentred_slope_notes(model.design)
    fit = fake_fit(model, draws=50)
    diagnostics = dataclasses.replace(fit.diagnostics, warnings=(_MORE_DRAWS,), notes=(centre,))
    fit = dataclasses.replace(fit, diagnostics=diagnostics)
    assert fit.summary().diagnostics == [centre, _MORE_DRAWS]
    text = str(fit.summary())
    assert text.index("Centre it") < text.index("draw more")


def test_notes_attr_without_model_notes_is_unchanged() -> None:
    post = xr.Dataset(attrs={"sampling_notes": _EXTENDED})
    add_model_notes(post, [])
    assert post.attrs["sampling_notes"] == _EXTENDED
