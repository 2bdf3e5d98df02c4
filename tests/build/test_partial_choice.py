"""``auto``'s partially centred choice (:mod:`hierbayes.build.partial_choice`): guImmun's
mothers get it; terms measured better centred or non-centred keep their choices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.build.model import resolve_parameterization
from hierbayes.build.partial import group_weights
from hierbayes.build.partial_choice import HIGH, LOW, auto_partial
from hierbayes.density.partial_layout import mode_variance
from hierbayes.priors import resolve_priors

DATA = Path(__file__).parents[1] / "data"


def _guimmun() -> hb.Model:
    data = pd.read_csv(DATA / "guimmun.csv", dtype={"ord": str, "mom": str, "comm": str})
    formula = (
        "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
        " + (1 | mom) + (1 | comm)"
    )
    return hb.Model(formula, data, family="bernoulli")


def test_guimmun_mothers_are_partially_centred() -> None:
    """1,595 mothers of 2,159 children (median one child): non-centred by the centred/
    non-centred rule, partially centred here, with the median weight at the mode's ``τ²``
    (lme4's 1.32; about 1.34) inside the measured range; the 161 communities stay non-centred."""
    design = _guimmun().design
    choice = resolve_parameterization(design, "auto")
    assert choice == {"mom": ("partial",), "comm": ("noncentered",)}
    mom = next(b for b in design.blocks if b.name == "mom")
    tau2 = mode_variance(design, resolve_priors(design, None)[0], mom)
    assert tau2 is not None and 1.0 < tau2 < 1.7
    assert LOW <= float(np.median(group_weights(design, mom, tau2))) <= HIGH


def test_other_choices_are_kept() -> None:
    """VerbAgg (centred), Contraception (centred intercept, non-centred slope) and the grouse
    ticks (one row per INDEX: no group gives an estimate, weights 0) keep their choices."""
    verbagg = hb.Model(
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        hb.datasets.load("verbagg"),
        family="bernoulli",
    ).design
    assert resolve_parameterization(verbagg, "auto") == {
        "id": ("centered",),
        "item": ("centered",),
    }
    contra = hb.Model(
        "use ~ urban + age + livch + (1 + urban | district)",
        pd.read_csv(DATA / "contraception.csv", dtype={"district": str}),
        family="bernoulli",
    ).design
    assert resolve_parameterization(contra, "auto") == {"district": ("centered", "noncentered")}
    grouse = hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        hb.datasets.load("grouseticks"),
        family="poisson",
    ).design
    assert resolve_parameterization(grouse, "auto")["INDEX"] == ("noncentered",)
    index = next(b for b in grouse.blocks if b.name == "INDEX")
    assert auto_partial(grouse, index) is None


def test_a_failed_mode_search_keeps_the_term_non_centred(monkeypatch) -> None:
    """An arithmetic failure in the mode search is not the user's problem: the term keeps the
    safe non-centred choice (the choice before partial centring existed)."""
    import hierbayes.density.partial_layout as partial_layout

    def failing(*args, **kwargs):
        raise FloatingPointError("overflow in the mode search")

    monkeypatch.setattr(partial_layout, "mode_variance", failing)
    design = _guimmun().design
    mom = next(b for b in design.blocks if b.name == "mom")
    assert auto_partial(design, mom) is None
    assert resolve_parameterization(design, "auto")["mom"] == ("noncentered",)


def test_weights_are_numbers_in_the_unit_interval_when_the_mode_runs_off(monkeypatch) -> None:
    """A mode search that ran ``log sd`` off (separated data, a flat prior) gives ``τ² = ∞``:
    the weights then are 1 (``τ² I = ∞``), never NaN, which the kernel would use as an index."""
    import hierbayes.density.partial_layout as partial_layout

    monkeypatch.setattr(partial_layout, "mode_variance", lambda *args: np.inf)
    design = _guimmun().design
    mom = next(b for b in design.blocks if b.name == "mom")
    weights = partial_layout.block_weights(design, mom, ("partial",), {})
    assert np.all(np.isfinite(weights)) and np.all((weights >= 0) & (weights <= 1))
    assert weights.max() == 1.0


def test_the_mode_is_cached_per_exact_priors(monkeypatch) -> None:
    """Priors that print alike (4 significant digits) but differ are different cache entries;
    equal priors share one (building the model found the default priors' mode already)."""
    import hierbayes.density.partial_layout as partial_layout

    calls: list[int] = []
    monkeypatch.setattr(
        partial_layout, "_mode_variances", lambda d, p: calls.append(1) or {"mom": 1.0}
    )
    design = _guimmun().design
    mom = next(b for b in design.blocks if b.name == "mom")
    priors = resolve_priors(design, None)[0]
    name = "sd|mom"
    assert priors[name] == hb.Prior("HalfNormal", sigma=2.5)  # the default, found while building
    changed = {**priors, name: hb.Prior("HalfNormal", sigma=2.50004)}
    same = {**priors, name: hb.Prior("HalfNormal", sigma=2.50004)}
    assert mode_variance(design, changed, mom) == 1.0
    assert mode_variance(design, same, mom) == 1.0  # equal priors: found once
    assert mode_variance(design, {**priors, name: hb.Prior("HalfNormal", sigma=2.5)}, mom) == 1.0
    assert len(calls) == 2
