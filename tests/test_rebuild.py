"""Recipes: the same model built again on other rows or from saved data."""

from __future__ import annotations

import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.errors import DataError
from hierbayes.rebuild import Recipe


@pytest.fixture(scope="module")
def model() -> hb.Model:
    students = hb.datasets.load("hsb").head(400)
    schools = hb.datasets.load("hsb_schools")
    schools = schools[schools["school"].isin(students["school"])]
    return hb.Model(
        "mAch ~ cses * meanses + (1 + cses | school)",
        data=students.drop(columns=["meanses", "sector"]),
        level2={"school": schools},
        priors={"sigma": hb.Prior("HalfNormal", sigma=8.0)},
        parameterization="noncentered",
    )


def test_recipe_records_the_model(model: hb.Model) -> None:
    recipe = Recipe.of(model)
    assert recipe.formula == "mAch ~ cses * meanses + (1 + cses | school)"
    assert recipe.level2 == {"school": ("meanses",)}
    assert recipe.level2_columns == {"school": ("meanses", "sector")}
    assert recipe.user_priors == ("sigma",)
    assert recipe.parameterization == {"school": ("noncentered", "noncentered")}


def test_rebuilt_on_the_same_data_is_the_same_model(model: hb.Model) -> None:
    again = Recipe.of(model).build(model.design.data)
    assert again.spec == model.spec
    assert again.prior_values == model.prior_values
    pd.testing.assert_frame_equal(again.priors, model.priors)
    assert (again.design.X == model.design.X).all()


def test_rebuilt_on_fewer_rows_keeps_every_prior_when_asked(model: hb.Model) -> None:
    recipe = Recipe.of(model)
    rows = model.design.data[model.design.data["school"] != model.design.data["school"].iloc[0]]
    fixed = recipe.build(rows, all_priors=True)
    assert fixed.prior_values == model.prior_values
    rescaled = recipe.build(rows)
    assert rescaled.prior_values["sigma"] == model.prior_values["sigma"]  # set by the user
    assert rescaled.prior_values["Intercept"] != model.prior_values["Intercept"]  # data-scaled


def test_trials_given_as_an_argument_are_kept() -> None:
    cbpp = hb.datasets.load("cbpp")
    model = hb.Model(
        "incidence ~ C(period) + (1 | herd)", data=cbpp, family="binomial", trials="size"
    )
    recipe = Recipe.of(model)
    assert recipe.trials == "size" and recipe.family == "binomial"
    assert (recipe.build(model.design.data).design.trials == model.design.trials).all()


def test_a_design_without_data_cannot_be_rebuilt(model: hb.Model) -> None:
    from dataclasses import replace

    class Bare:
        spec = model.spec
        design = replace(model.design, data=None)

    with pytest.raises(DataError, match="does not keep its data"):
        Recipe.of(Bare())  # type: ignore[arg-type]
