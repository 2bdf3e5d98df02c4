"""A grouping column with an awkward name is written `grp x` or Q('grp x'), as for predictors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import FormulaSyntaxError
from hierbayes.spec import parse_formula


@pytest.mark.parametrize(
    ("formula", "factors"),
    [
        ("y ~ x + (1 | `grp x`)", [("grp x",)]),
        ("y ~ x + (1 | Q('grp x'))", [("grp x",)]),
        ('y ~ x + (1 | Q("grp x"))', [("grp x",)]),
        ("y ~ x + (1 | `a b`/`c d`)", [("a b",), ("a b", "c d")]),
        ("y ~ x + (1 | `a b`:g)", [("a b", "g")]),
    ],
)
def test_quoted_grouping_names(formula, factors):
    assert [g.factor for g in parse_formula(formula).groups] == factors


@pytest.mark.parametrize("factor", ["`a b", "Q(grp)", "Q('a' + 'b')", "``"])
def test_malformed_quoted_grouping_names_are_refused(factor):
    refused = r"Expected a grouping|grouping factor|quote context|Q\(\.\.\.\) takes a column"
    with pytest.raises(FormulaSyntaxError, match=refused):
        parse_formula(f"y ~ x + (1 | {factor})")


def test_a_model_grouped_by_an_awkward_name_fits_predicts_and_loads(tmp_path):
    rng = np.random.default_rng(9)
    data = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "grp x": np.repeat(list("abcd"), 6)}
    )
    fit = fake_fit(hb.Model("y ~ x + (1 + x | `grp x`)", data), draws=10)
    assert sorted(fit.ranef()["group"].unique()) == ["a", "b", "c", "d"]
    assert fit.predict(pd.DataFrame({"x": [1.0], "grp x": ["a"]})).shape[-1] == 1
    loaded = hb.load(fit.save(tmp_path / "fit.hb"))
    pd.testing.assert_frame_equal(loaded.ranef(), fit.ranef())
