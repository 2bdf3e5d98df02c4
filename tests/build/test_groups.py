"""Parameterisations of group effects: all imply u ~ N(0, T); the automatic choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import hierbayes as hb
from hierbayes.build import build_model, resolve_parameterization
from hierbayes.build.groups import choose_parameterization, group_least_squares
from hierbayes.design import make_design
from hierbayes.errors import ModelSpecError
from hierbayes.priors import resolve_priors
from hierbayes.spec import parse_formula


def _small_design(formula: str = "y ~ x + (1 + x + w | g)"):
    rng = np.random.default_rng(0)
    n = 120
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "w": rng.normal(size=n),
            "g": np.repeat([f"s{j}" for j in range(12)], n // 12),
        }
    )
    return make_design(parse_formula(formula), data)


@pytest.mark.parametrize(
    "choice",
    [
        ("noncentered", "noncentered", "noncentered"),
        ("centered", "centered", "centered"),
        ("centered", "noncentered", "centered"),
        ("noncentered", "centered", "noncentered"),
    ],
)
@pytest.mark.parametrize("formula", ["y ~ x + (1 + x + w | g)", "y ~ x + (1 + x + w || g)"])
def test_every_parameterization_implies_u_given_T_is_standard_normal(choice, formula):
    """Whitened prior draws L^-1 u must be iid N(0, 1) whatever the parameterisation."""
    design = _small_design(formula)
    priors, _ = resolve_priors(design, None)
    model = build_model(design, priors, {"g": choice})
    block = design.blocks[0]
    if block.correlated:
        sd, cor, u = pm.draw(
            [model["sd|g"], model["cor|g"], model["u|g"]], draws=400, random_seed=1
        )
    else:
        sd, u = pm.draw([model["sd|g"], model["u|g"]], draws=400, random_seed=1)
        cor = np.broadcast_to(np.eye(3), (400, 3, 3))
    cov = sd[:, :, None] * cor * sd[:, None, :]
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol[:, None], u[..., None])[..., 0]  # (draws, groups, terms)
    flat = white.reshape(-1, 3)
    n = flat.shape[0]
    # Mean 0 and covariance I within 4 Monte Carlo standard errors.
    assert np.all(np.abs(flat.mean(axis=0)) < 4 / np.sqrt(n))
    assert np.all(np.abs(np.cov(flat.T) - np.eye(3)) < 4 * np.sqrt(2 / n))


def test_mixed_parameterization_samples_the_documented_variables():
    design = _small_design()
    priors, _ = resolve_priors(design, None)
    model = build_model(design, priors, {"g": ("centered", "noncentered", "centered")})
    free = {rv.name for rv in model.free_RVs}
    assert {"z|g", "u|g|Intercept", "u|g|w"} <= free
    assert "u|g" in {d.name for d in model.deterministics}
    assert model.named_vars_to_dims["z|g"] == ("g", "g__term_z")
    assert list(model.coords["g__term_z"]) == ["x"]


def test_auto_centres_informed_and_not_weakly_informed_coefficients():
    sleep = hb.datasets.load("sleepstudy")
    design = make_design(parse_formula("Reaction ~ Days + (1 + Days | Subject)"), sleep)
    assert choose_parameterization(design, design.blocks[0]) == ("centered", "centered")
    radon = hb.datasets.load("radon")
    design = make_design(parse_formula("log_radon ~ basement + (1 | county)"), radon)
    assert choose_parameterization(design, design.blocks[0]) == ("noncentered",)


def test_auto_for_non_gaussian_families_follows_the_information_rule():
    """cbpp: 15 herds, about 60 animals each at incidence near 0.1 (information about 5 against
    a between-herd variance near 0.4): centred (hierbayes.build.glm_choice)."""
    cbpp = hb.datasets.load("cbpp")
    design = make_design(
        parse_formula("incidence | trials(size) ~ C(period) + (1 | herd)"), cbpp, family="binomial"
    )
    assert choose_parameterization(design, design.blocks[0]) == ("centered",)


def test_auto_is_noncentered_for_one_row_groups():
    """An observation-level factor: no group's own data can pin its effect down, whether the
    response is a count or gaussian (where the other, informative factor is still centred)."""
    ticks = hb.datasets.load("grouseticks")
    design = make_design(
        parse_formula("TICKS ~ HEIGHT + (1 | BROOD) + (1 | INDEX)"), ticks, family="poisson"
    )
    assert [choose_parameterization(design, b) for b in design.blocks] == [
        ("centered",),
        ("noncentered",),
    ]
    sleep = hb.datasets.load("sleepstudy").assign(obs=lambda d: [str(i) for i in range(len(d))])
    design = make_design(parse_formula("Reaction ~ Days + (1 | Subject) + (1 | obs)"), sleep)
    assert [choose_parameterization(design, b) for b in design.blocks] == [
        ("centered",),
        ("noncentered",),
    ]


@pytest.mark.parametrize("column", ["Intercept", "x"])
def test_one_coefficient_least_squares_agree_with_each_group_solved_alone(column: str):
    """The one-coefficient path (all groups at once) against numpy's least squares group by
    group, with groups of one row, a slope that is zero in one group and groups of many rows."""
    rng = np.random.default_rng(3)
    sizes = np.array([1, 1, 2, 3, 5, 8, 1, 4, 13, 2])
    g = np.repeat(np.arange(len(sizes)), sizes)
    x = rng.normal(size=g.size)
    x[g == 3] = 0.0  # a group whose slope column holds zeros only: rank 0, no estimate
    data = pd.DataFrame({"y": rng.normal(size=g.size), "x": x, "g": [f"s{j}" for j in g]})
    formula = "y ~ 1 + (1 | g)" if column == "Intercept" else "y ~ 1 + (0 + x | g)"
    block = make_design(parse_formula(formula), data).blocks[0]
    resid = rng.normal(size=g.size)
    estimates, ztz, rss, dof = group_least_squares(block, resid)
    want_rss, want_dof = 0.0, 0
    for j, label in enumerate(block.levels):
        rows = block.codes == j
        z = block.Z[rows, 0]
        assert ztz[j, 0] == pytest.approx(np.sum(z * z), rel=1e-14)
        if rows.sum() < 2 or not np.any(z):
            assert np.isnan(estimates[j, 0]), label
            continue
        coef, found, *_ = np.linalg.lstsq(z[:, None], resid[rows], rcond=None)
        assert estimates[j, 0] == pytest.approx(coef[0], rel=1e-12), label
        want_rss, want_dof = want_rss + float(found[0]), want_dof + int(rows.sum()) - 1
    assert dof == want_dof and rss == pytest.approx(want_rss, rel=1e-12)
    # three groups of one row, and for the slope the group whose column is zero
    assert np.isnan(estimates).sum() == (4 if column == "x" else 3)


def test_least_squares_refuse_residuals_of_another_length():
    block = _small_design("y ~ x + (1 | g)").blocks[0]
    with pytest.raises(ValueError, match=r"one residual per row of the term .*\(120\); got"):
        group_least_squares(block, np.zeros(119))


def test_resolve_parameterization_forms_and_errors():
    design = _small_design()
    assert resolve_parameterization(design, "centered") == {"g": ("centered",) * 3}
    by_coef = resolve_parameterization(design, {"g": {"x": "noncentered"}})
    assert by_coef["g"][1] == "noncentered"
    with pytest.raises(ModelSpecError, match="Unknown parameterization 'wobbly'"):
        resolve_parameterization(design, "wobbly")
    with pytest.raises(ModelSpecError, match="unknown group term"):
        resolve_parameterization(design, {"school": "centered"})
    with pytest.raises(ModelSpecError, match="unknown coefficient"):
        resolve_parameterization(design, {"g": {"z": "centered"}})
    with pytest.raises(ModelSpecError, match="has 2 entries"):
        resolve_parameterization(design, {"g": ("centered", "centered")})
    with pytest.raises(ModelSpecError, match="must be a string or a dict"):
        resolve_parameterization(design, 3)
