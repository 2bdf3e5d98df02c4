"""hb.Model.from_levels: the level-equation spelling is the same model as the formula.

For every model of the table, the two spellings give equal specs, equal designs (response, X,
each block's Z, group codes and labels), equal priors and equal parameterisations. On HSB the
intercepts- and slopes-as-outcomes model, sampled with the seed of the formula fit, gives the very
same draws: a stronger statement than agreement within Monte Carlo error, and the one that holds
when the two spellings build the same PyMC model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.errors import Level2Error, ModelSpecError

HSB_BOTH = "~ 1 + meanses + sector"


@pytest.fixture(scope="session")
def frames(hsb_students: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Data sets by name; ``classes`` is simulated: 6 schools x 4 classes x 5 pupils, with class
    labels that repeat across schools, a pupil-level x, class-level X and school-level W."""
    rng = np.random.default_rng(7)
    rows = []
    for s in range(6):
        w = rng.normal()
        for c in range(4):
            big_x = rng.normal()
            for _ in range(5):
                x = rng.normal()
                y = 1 + w + big_x + 0.5 * x + rng.normal()
                rows.append({"school": f"s{s}", "class": c, "x": x, "X": big_x, "W": w, "y": y})
    radon = hb.datasets.load("radon")
    return {
        "hsb": hsb_students,
        "students": hsb_students.drop(columns=["meanses", "sector"]),
        "schools": hb.datasets.load("hsb_schools"),
        "classes": pd.DataFrame(rows),
        "cbpp": hb.datasets.load("cbpp"),
        "radon": radon.drop(columns=["uranium", "county_name"]),
        "counties": hb.datasets.load("radon_counties"),
    }


# (id, from_levels keyword arguments, formula, hb.Model keyword arguments); data by name
ROUND_TRIP = [
    (
        "one-way ANOVA",
        {"level1": "mAch ~ 1", "group": "school", "data": "students"},
        "mAch ~ 1 + (1 | school)",
        {"data": "students"},
    ),
    (
        "means as outcomes",
        {"level1": "mAch ~ 1", "level2": {"Intercept": "~ meanses"}, "group": "school"},
        "mAch ~ meanses + (1 | school)",
        {"level2": {"school": ["meanses"]}},
    ),
    (
        "random-intercept ANCOVA",
        {"level1": "mAch ~ cses", "random": ["Intercept"], "group": "school"},
        "mAch ~ cses + (1 | school)",
        {},
    ),
    (
        "random coefficients",
        {"level1": "mAch ~ 1 + cses", "random": ["Intercept", "cses"], "group": "school"},
        "mAch ~ cses + (1 + cses | school)",
        {},
    ),
    (
        "intercepts and slopes as outcomes",
        {
            "level1": "mAch ~ 1 + cses",
            "level2": {"Intercept": HSB_BOTH, "cses": HSB_BOTH},
            "random": ["Intercept", "cses"],
            "group": "school",
            "data": "students",
            "level2_data": "schools",
        },
        "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
        {"data": "students", "level2": {"school": "schools"}},
    ),
    (
        "uncorrelated ||",
        {"level1": "mAch ~ cses", "random": ["Intercept", "cses"], "correlated": False},
        "mAch ~ cses + (cses || school)",
        {},
    ),
    (
        "no random intercept",
        {"level1": "mAch ~ cses", "random": ["cses"]},
        "mAch ~ cses + (0 + cses | school)",
        {},
    ),
    (
        "non-randomly varying slope",
        {"level1": "mAch ~ cses", "level2": {"cses": "~ sector"}, "random": ["Intercept"]},
        "mAch ~ cses + cses:sector + (1 | school)",
        {},
    ),
    (
        "several level-1 predictors, different level-2 equations",
        {
            "level1": "mAch ~ cses + minrty + sx",
            "level2": {"Intercept": HSB_BOTH, "cses": "~ meanses", "minrty": "~ sector"},
            "random": ["Intercept", "cses"],
        },
        "mAch ~ cses + minrty + sx + meanses + sector + cses:meanses + minrty:sector"
        " + (1 + cses | school)",
        {},
    ),
    (
        "slope without a constant",
        {"level1": "mAch ~ cses", "level2": {"cses": "~ 0 + meanses"}, "random": ["1", "cses"]},
        "mAch ~ cses:meanses + (1 + cses | school)",
        {},
    ),
    (
        "binomial",
        {
            "level1": "incidence | trials(size) ~ C(period)",
            "group": "herd",
            "data": "cbpp",
            "family": "binomial",
        },
        "incidence | trials(size) ~ C(period) + (1 | herd)",
        {"data": "cbpp", "family": "binomial"},
    ),
    (
        "radon with a county table",
        {
            "level1": "log_radon ~ basement",
            "level2": {"Intercept": "~ uranium"},
            "group": "county",
            "data": "radon",
            "level2_data": "counties",
        },
        "log_radon ~ basement + uranium + (1 | county)",
        {"data": "radon", "level2": {"county": "counties"}},
    ),
    (
        "three levels, varying intercepts",
        {
            "level1": "y ~ 1 + x",
            "level2": {"Intercept": "~ X + W"},
            "group": ["school", "class"],
            "data": "classes",
        },
        "y ~ x + X + W + (1 | school/class)",
        {"data": "classes"},
    ),
    (
        "three levels, slope varying by school",
        {
            "level1": "y ~ x",
            "level2": {"Intercept": "~ X + W", "x": "~ W"},
            "random": {"school": ["Intercept", "x"], "class": ["Intercept"]},
            "group": "school/class",
            "data": "classes",
        },
        "y ~ x + X + W + x:W + (1 + x | school) + (1 | school:class)",
        {"data": "classes"},
    ),
]


def _resolve(kwargs: dict, frames: dict[str, pd.DataFrame]) -> dict:
    out = dict(kwargs)
    out["data"] = frames[out.get("data", "hsb")]
    if isinstance(out.get("level2_data"), str):
        out["level2_data"] = frames[out["level2_data"]]
    if isinstance(out.get("level2"), dict):
        out["level2"] = {
            k: frames[v] if isinstance(v, str) and v in frames else v
            for k, v in out["level2"].items()
        }
    return out


def assert_same_model(a: hb.Model, b: hb.Model) -> None:
    assert a.spec == b.spec
    da, db = a.design, b.design
    np.testing.assert_array_equal(da.y, db.y)
    assert da.fixed_columns == db.fixed_columns
    np.testing.assert_array_equal(da.X, db.X)
    assert [x.name for x in da.blocks] == [x.name for x in db.blocks]
    for x, y in zip(da.blocks, db.blocks, strict=True):
        assert (x.factor, x.columns, x.levels) == (y.factor, y.columns, y.levels)
        np.testing.assert_array_equal(x.Z, y.Z)
        np.testing.assert_array_equal(x.codes, y.codes)
    assert a.prior_values == b.prior_values
    assert a.parameterization == b.parameterization
    assert a.obs_index.equals(b.obs_index)


@pytest.mark.parametrize(
    ("levels", "formula", "options"), [r[1:] for r in ROUND_TRIP], ids=[r[0] for r in ROUND_TRIP]
)
def test_round_trip(levels, formula, options, frames):
    from_levels = hb.Model.from_levels(**{"group": "school", **_resolve(levels, frames)})
    from_formula = hb.Model(formula, **_resolve(options, frames))
    assert from_levels.spec.formula != ""
    assert_same_model(from_levels, from_formula)


def test_round_trip_covers_the_required_cases():
    ids = [r[0] for r in ROUND_TRIP]
    assert len(ids) >= 12
    assert sum("three levels" in i for i in ids) == 2


def test_from_levels_equations_equal_the_formulas(frames):
    """The equations are a property of the model, not of its spelling."""
    for _, levels, formula, options in ROUND_TRIP:
        a = hb.Model.from_levels(**{"group": "school", **_resolve(levels, frames)})
        b = hb.Model(formula, **_resolve(options, frames))
        for notation in ("rb", "gh"):
            assert str(a.equations(notation)) == str(b.equations(notation))


def test_from_levels_names_a_group_where_a_level2_predictor_varies(frames):
    with pytest.raises(Level2Error, match=r"'ses' varies within 'school' = 1224"):
        hb.Model.from_levels("mAch ~ cses", {"cses": "~ ses"}, group="school", data=frames["hsb"])


def test_from_levels_names_an_unknown_coefficient(frames):
    with pytest.raises(ModelSpecError, match=r"level2 names 'ses', which is not a coefficient"):
        hb.Model.from_levels("mAch ~ cses", {"ses": "~ 1"}, group="school", data=frames["hsb"])


def test_from_levels_passes_priors_and_family_on(frames):
    prior = hb.Prior("HalfNormal", sigma=3)
    m = hb.Model.from_levels(
        "incidence | trials(size) ~ 1",
        group="herd",
        data=frames["cbpp"],
        family="binomial",
        priors={"sd|herd": prior},
        parameterization="centered",
    )
    assert m.family.name == "binomial"
    assert m.prior_values["sd|herd"] == prior
    assert m.parameterization == {"herd": ("centered",)}


def test_from_levels_passes_offset_weights_missing_and_link_on(frames):
    cbpp = frames["cbpp"].assign(
        lsize=lambda d: np.log(d["size"]), w=lambda d: np.arange(len(d)) % 3 + 1.0
    )
    cbpp.loc[4, "period"] = None  # one row without a period: dropped with missing="drop"
    options = {"offset": "lsize", "weights": "w", "missing": "drop", "link": "cloglog"}
    with pytest.warns(UserWarning, match="period"):
        levels = hb.Model.from_levels(
            "incidence | trials(size) ~ 1 + period + offset(0.5 * lsize)",
            group="herd",
            data=cbpp,
            family="binomial",
            **options,
        )
    with pytest.warns(UserWarning, match="period"):
        formula = hb.Model(
            "incidence | trials(size) ~ period + offset(0.5 * lsize) + (1 | herd)",
            cbpp,
            family="binomial",
            **options,
        )
    assert levels.spec == formula.spec
    assert levels.family.link == "cloglog" and levels.design.n_dropped == 1
    np.testing.assert_array_equal(levels.design.offset, formula.design.offset)
    np.testing.assert_array_equal(levels.design.offset, 1.5 * np.log(cbpp["size"].drop(4)))
    np.testing.assert_array_equal(levels.design.weights, cbpp["w"].drop(4))
    assert levels.weights_column == "w" and levels.missing == "drop"


@pytest.mark.slow
def test_equation_spelling_gives_the_draws_of_the_formula(frames, hsb_fit: hb.Fit):
    model = hb.Model.from_levels(
        level1="mAch ~ 1 + cses",
        level2={"Intercept": HSB_BOTH, "cses": HSB_BOTH},
        random=["Intercept", "cses"],
        group="school",
        data=frames["students"],
        level2_data=frames["schools"],
    )
    assert_same_model(model, hsb_fit.model)
    # the sampling settings and seed of the hsb_fit fixture (tests/conftest.py)
    fit = quiet_fit(model, draws=1000, tune=1000, chains=4, random_seed=1)
    ours, theirs = fit.idata["posterior"], hsb_fit.idata["posterior"]
    assert set(ours.data_vars) == set(theirs.data_vars)
    for name in ours.data_vars:
        np.testing.assert_array_equal(ours[name].values, theirs[name].values)
    assert fit.fixef().equals(hsb_fit.fixef())
