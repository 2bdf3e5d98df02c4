"""A binomial response of proportions (lme4's ``prop ~ ..., weights = n``) gets the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design.proportions import check_binomial_proportions
from hierbayes.errors import FamilyError


@pytest.fixture(scope="module")
def cbpp():
    d = hb.datasets.load("cbpp")
    d["prop"] = d["incidence"] / d["size"]
    return d


def test_proportions_with_weights_name_the_counts_to_write(cbpp):
    with pytest.raises(
        FamilyError,
        match=r"'prop' holds proportions .* weights='size'.*lme4's glmer\(prop ~ \.\.\., "
        r"weights = size.*data\['k'\] = \(data\['prop'\] \* data\['size'\]\)\.round\(\)"
        r"\.astype\(int\) \(whole numbers here\)"
        r".*'k \| trials\(size\) ~ \.\.\.' without weights=",
    ):
        hb.Model("prop ~ C(period) + (1 | herd)", cbpp, family="binomial", weights="size")


@pytest.mark.parametrize(
    ("formula", "kwargs"),
    [
        ("prop | trials(size) ~ C(period) + (1 | herd)", {}),
        ("prop ~ C(period)", {"trials": "size"}),
    ],
)
def test_proportions_with_trials_say_the_response_is_successes(cbpp, formula, kwargs):
    with pytest.raises(
        FamilyError, match=r"'prop' holds proportions .*number of successes out of trials\(size\)"
    ):
        hb.Model(formula, cbpp, family="binomial", **kwargs)


def test_the_counts_it_suggests_give_lme4s_model(cbpp):
    """The rewrite the message gives is the binomial model of the counts."""
    data = cbpp.copy()
    data["k"] = (data["prop"] * data["size"]).round().astype(int)
    m = hb.Model("k | trials(size) ~ C(period) + (1 | herd)", data, family="binomial")
    np.testing.assert_array_equal(m.design.y, data["incidence"].to_numpy())


def test_the_suggested_counts_are_whole_where_the_product_is_not():
    """(1 / 49) * 49 is 0.9999999999999999: the rewrite rounds it, and the message quotes a
    proportion, not the whole numbers among them."""
    data = pd.DataFrame(
        {"prop": [0.0, 1.0, 1 / 49, 15 / 22], "n": [49, 49, 49, 22], "g": ["a", "a", "b", "b"]}
    )
    with pytest.raises(FamilyError, match=r"holds proportions \(0\.02041, 0\.6818, \.\.\.\)"):
        hb.Model("prop ~ 1 + (1 | g)", data, family="binomial", weights="n")
    data["k"] = (data["prop"] * data["n"]).round().astype(int)
    m = hb.Model("k | trials(n) ~ 1 + (1 | g)", data, family="binomial")
    np.testing.assert_array_equal(m.design.y, [0, 49, 1, 15])


def test_proportions_that_are_not_whole_counts_are_rounded_in_the_fix():
    with pytest.raises(FamilyError, match=r"rounded to whole numbers"):
        check_binomial_proportions(
            np.array([0.3, 0.5]), "p", trials=None, weights="w", weight_values=np.array([2.0, 3.0])
        )


def test_counts_and_all_zero_one_responses_pass():
    check_binomial_proportions(
        np.array([0.0, 3.0, 7.0]), "k", trials="n", weights=None, weight_values=None
    )
    check_binomial_proportions(
        np.array([0.0, 1.0, 1.0]), "k", trials="n", weights="w", weight_values=np.ones(3)
    )
