"""make_design on small hand-made data: encodings, group blocks, trials and data errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierbayes.design import Design, make_design, required_variables
from hierbayes.errors import (
    DataError,
    FamilyError,
    MissingColumnError,
    MissingValueError,
)
from hierbayes.families import get_family
from hierbayes.spec import parse_formula


def design(formula: str, data: pd.DataFrame, **kwargs) -> Design:
    return make_design(parse_formula(formula), data, **kwargs)


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.5, 4.0, 5.0, 6.5],
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.5],
            "z": [1.0, -1.0, 2.0, 0.5, 0.0, 3.0],
            "a": ["u", "v", "w", "u", "v", "w"],
            "b": ["p", "q", "p", "q", "p", "q"],
            "g": [2, 2, 10, 10, 1, 1],
            "h": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
            "f": [0.5, 0.5, 1.5, 1.5, 2.5, 2.5],
            "k": [0, 1, 2, 1, 0, 3],
            "n": [3, 3, 3, 4, 4, 4],
            "yb": [0, 1, 1, 0, 1, 0],
        }
    )


# ---------------------------------------------------------------------------- fixed effects


def test_intercept_and_slope(df):
    d = design("y ~ x", df)
    assert d.fixed_columns == ("Intercept", "x")
    np.testing.assert_array_equal(d.X, np.column_stack([np.ones(6), df.x]))
    np.testing.assert_array_equal(d.y, df.y)
    assert d.X.dtype == np.float64 and d.y.dtype == np.float64
    assert d.blocks == ()
    assert d.trials is None
    assert d.family.name == "gaussian"


def test_categorical_treatment_coding(df):
    d = design("y ~ a", df)
    assert d.fixed_columns == ("Intercept", "a[T.v]", "a[T.w]")
    expected = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1]] * 2, dtype=float)
    np.testing.assert_array_equal(d.X, expected)


def test_explicit_categorical_of_a_numeric_column(df):
    d = design("y ~ C(g)", df)
    assert d.fixed_columns == ("Intercept", "C(g)[T.2]", "C(g)[T.10]")
    np.testing.assert_array_equal(d.X[:, 1], (df.g == 2).astype(float))
    np.testing.assert_array_equal(d.X[:, 2], (df.g == 10).astype(float))


def test_categorical_without_intercept_gets_every_level(df):
    d = design("y ~ 0 + a", df)
    assert d.fixed_columns == ("a[u]", "a[v]", "a[w]")
    np.testing.assert_array_equal(d.X, np.tile(np.eye(3), (2, 1)))


@pytest.mark.parametrize("formula", ["y ~ 0 + x", "y ~ x - 1", "y ~ -1 + x"])
def test_no_intercept(df, formula):
    d = design(formula, df)
    assert d.fixed_columns == ("x",)
    np.testing.assert_array_equal(d.X[:, 0], df.x)


def test_empty_fixed_part(df):
    d = design("y ~ 0 + (1 | g)", df)
    assert d.fixed_columns == ()
    assert d.X.shape == (6, 0)


def test_numeric_interaction(df):
    d = design("y ~ x*z", df)
    assert d.fixed_columns == ("Intercept", "x", "z", "x:z")
    np.testing.assert_allclose(d.X[:, 3], df.x * df.z)
    d = design("y ~ x:z", df)
    assert d.fixed_columns == ("Intercept", "x:z")
    np.testing.assert_allclose(d.X[:, 1], df.x * df.z)


def test_categorical_by_numeric_interaction(df):
    d = design("y ~ a*x", df)
    assert d.fixed_columns == ("Intercept", "a[T.v]", "a[T.w]", "x", "a[T.v]:x", "a[T.w]:x")
    np.testing.assert_allclose(d.X[:, 4], (df.a == "v") * df.x)
    np.testing.assert_allclose(d.X[:, 5], (df.a == "w") * df.x)


def test_transforms(df):
    d = design("y ~ np.log(x + 1) + I(z**2)", df)
    assert d.fixed_columns == ("Intercept", "np.log(x + 1)", "I(z ** 2)")
    np.testing.assert_allclose(d.X[:, 1], np.log(df.x + 1))
    np.testing.assert_allclose(d.X[:, 2], df.z**2)


def test_response_expression(df):
    d = design("np.log(y) ~ x", df)
    np.testing.assert_allclose(d.y, np.log(df.y))


def test_boolean_response(df):
    d = design("yb ~ x", df.assign(yb=df.yb.astype(bool)), family="bernoulli")
    np.testing.assert_array_equal(d.y, df.yb.astype(float))


# ---------------------------------------------------------------------------- group blocks


def test_random_intercept_block(df):
    d = design("y ~ x + (1 | g)", df)
    (block,) = d.blocks
    assert block.name == block.factor == "g"
    assert block.columns == ("Intercept",)
    np.testing.assert_array_equal(block.Z, np.ones((6, 1)))
    # Labels sorted numerically and rendered as strings; codes index into them.
    assert block.levels == ("1", "2", "10")
    assert block.codes.tolist() == [1, 1, 2, 2, 0, 0]
    assert block.codes.dtype == np.int64
    assert block.counts.tolist() == [2, 2, 2]
    assert block.correlated is False  # a single coefficient has no correlation
    assert block.term_dim == "g__term"
    assert block.term == parse_formula("y ~ (1 | g)").groups[0]
    assert d.block("g") is block


def test_random_slope_block(df):
    block = design("y ~ x + (1 + x | a)", df).blocks[0]
    assert block.columns == ("Intercept", "x")
    np.testing.assert_array_equal(block.Z, np.column_stack([np.ones(6), df.x]))
    assert block.levels == ("u", "v", "w")
    assert block.codes.tolist() == [0, 1, 2, 0, 1, 2]
    assert block.correlated is True


def test_uncorrelated_block(df):
    block = design("y ~ x + (x || a)", df).blocks[0]
    assert block.columns == ("Intercept", "x")
    assert block.correlated is False


def test_slope_only_block(df):
    block = design("y ~ x + (0 + x | a)", df).blocks[0]
    assert block.columns == ("x",)
    np.testing.assert_array_equal(block.Z[:, 0], df.x)
    assert block.correlated is False


def test_categorical_varying_block(df):
    block = design("y ~ (0 + a | b)", df).blocks[0]
    assert block.columns == ("a[u]", "a[v]", "a[w]")
    np.testing.assert_array_equal(block.Z, np.tile(np.eye(3), (2, 1)))
    assert block.levels == ("p", "q")


@pytest.mark.parametrize(
    ("column", "levels"),
    [
        ("h", ("1", "2", "3")),  # floats with integer values: '1', not '1.0'
        ("f", ("0.5", "1.5", "2.5")),
        ("g", ("1", "2", "10")),  # numeric sort, not lexicographic
        ("a", ("u", "v", "w")),
    ],
)
def test_group_labels(df, column, levels):
    block = design(f"y ~ (1 | {column})", df).blocks[0]
    assert block.levels == levels
    assert all(isinstance(level, str) for level in block.levels)
    # Each observation's code points at its own group label.
    rendered = [levels[c] for c in block.codes]
    expected = [
        str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in df[column]
    ]
    assert rendered == expected


def test_nesting_gives_outer_and_interaction_blocks(df):
    d = design("y ~ (1 | h/b)", df)
    assert [b.name for b in d.blocks] == ["h", "h:b"]
    assert [b.factor for b in d.blocks] == ["h", "h:b"]
    outer, inner = d.blocks
    assert outer.levels == ("1", "2", "3")
    assert inner.levels == ("1:p", "1:q", "2:p", "2:q", "3:p", "3:q")
    assert inner.codes.tolist() == [0, 1, 2, 3, 4, 5]
    labels = [inner.levels[c] for c in inner.codes]
    assert labels == [f"{int(h)}:{b}" for h, b in zip(df.h, df.b, strict=True)]
    assert inner.term_dim == "h:b__term"


def test_three_level_nesting(df):
    d = design("y ~ (1 | b/a/g)", df)
    assert [b.name for b in d.blocks] == ["b", "b:a", "b:a:g"]
    assert d.blocks[2].levels[0] == "p:u:2"


def test_interaction_factor(df):
    block = design("y ~ (1 | g:h)", df).blocks[0]
    assert block.name == "g:h"
    assert block.levels == ("1:3", "2:1", "10:2")
    assert block.codes.tolist() == [1, 1, 2, 2, 0, 0]


def test_crossed_factors(df):
    d = design("y ~ (1 | a) + (1 | b)", df)
    a, b = d.blocks
    assert (a.name, b.name) == ("a", "b")
    assert a.codes.tolist() == [0, 1, 2, 0, 1, 2]
    assert b.codes.tolist() == [0, 1, 0, 1, 0, 1]
    assert b.counts.tolist() == [3, 3]


def test_repeated_factor_names(df):
    d = design("y ~ (1 | g) + (0 + x | g) + (0 + z | g) + (1 | a)", df)
    assert [b.name for b in d.blocks] == ["g", "g.2", "g.3", "a"]
    assert [b.factor for b in d.blocks] == ["g", "g", "g", "a"]
    assert d.block("g.2").columns == ("x",)
    assert d.block("g.3").columns == ("z",)
    assert d.block("g.2").term_dim == "g.2__term"
    np.testing.assert_array_equal(d.block("g").codes, d.block("g.3").codes)


def test_unknown_block_name(df):
    d = design("y ~ (1 | g)", df)
    with pytest.raises(KeyError, match=r"No group term named 'h'"):
        d.block("h")


# ---------------------------------------------------------------------------- rows


def test_rows_are_never_dropped_and_index_is_ignored(df):
    shuffled = df.iloc[[5, 3, 1, 0, 2, 4]].set_index(pd.Index([10, 20, 7, 7, 3, 1]))
    d = design("y ~ x + (1 | a)", shuffled)
    assert d.n_obs == len(shuffled) == 6
    np.testing.assert_array_equal(d.y, shuffled.y.to_numpy())
    np.testing.assert_array_equal(d.X[:, 1], shuffled.x.to_numpy())
    assert [d.blocks[0].levels[c] for c in d.blocks[0].codes] == shuffled.a.tolist()


def test_data_is_not_modified(df):
    before = df.copy()
    design("y ~ x + (1 | g)", df)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------------------- binomial trials


def test_trials_from_formula(df):
    d = design("k | trials(n) ~ x + (1 | a)", df, family="binomial")
    np.testing.assert_array_equal(d.trials, df.n.astype(float))
    np.testing.assert_array_equal(d.y, df.k.astype(float))
    assert d.spec.fixed.trials == "n"


def test_trials_argument(df):
    d = design("k ~ x", df, family="binomial", trials="n")
    np.testing.assert_array_equal(d.trials, df.n.astype(float))
    assert d.spec.fixed.trials == "n"
    assert d.spec == parse_formula("k | trials(n) ~ x")


def test_same_trials_twice_is_fine(df):
    d = design("k | trials(n) ~ x", df, family="binomial", trials="n")
    np.testing.assert_array_equal(d.trials, df.n.astype(float))


def test_trials_given_twice(df):
    with pytest.raises(DataError, match=r"Trials given twice: trials\(n\) .* trials='g'"):
        design("k | trials(n) ~ x", df, family="binomial", trials="g")


@pytest.mark.parametrize(
    ("formula", "kwargs"),
    [
        ("k | trials(n) ~ x", {}),
        ("k ~ x", {"trials": "n"}),
        ("k | trials(n) ~ x", {"family": "poisson"}),
    ],
)
def test_trials_for_a_non_binomial_family(df, formula, kwargs):
    with pytest.raises(FamilyError, match=r"trials\(n\) only applies to the binomial family"):
        design(formula, df, **kwargs)


def test_binomial_without_trials(df):
    with pytest.raises(FamilyError, match=r"needs the number of trials"):
        design("k ~ x", df, family="binomial")


def test_missing_trials_column(df):
    with pytest.raises(MissingColumnError, match=r"Column 'm' used in the formula"):
        design("k | trials(m) ~ x", df, family="binomial")


# ---------------------------------------------------------------------------- families


@pytest.mark.parametrize("family", ["gaussian", "Gaussian", get_family("gaussian")])
def test_family_argument(df, family):
    assert design("y ~ x", df, family=family).family is get_family("gaussian")


def test_unknown_family(df):
    with pytest.raises(FamilyError, match=r"Unknown family 'weibull'"):
        design("y ~ x", df, family="weibull")


# ---------------------------------------------------------------------------- required columns


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("y ~ x", ["y", "x"]),
        ("y ~ 1", ["y"]),
        ("y ~ z + x + (1 | g)", ["y", "x", "z", "g"]),
        ("np.log(y) ~ C(a) * x", ["y", "a", "x"]),
        ("k | trials(n) ~ x + (1 + z | g1/g2)", ["k", "n", "x", "z", "g1", "g2"]),
        ("y ~ (x | g) + (0 + x | h)", ["y", "x", "g", "h"]),
        ("y ~ (1 | a:b) + (1 | b)", ["y", "a", "b"]),
    ],
)
def test_required_variables(formula, expected):
    assert required_variables(parse_formula(formula)) == expected


# ---------------------------------------------------------------------------- data errors


def test_not_a_dataframe(df):
    with pytest.raises(TypeError, match=r"data must be a pandas DataFrame, got dict"):
        design("y ~ x", df.to_dict())
    with pytest.raises(TypeError, match=r"got ndarray"):
        design("y ~ x", df[["y", "x"]].to_numpy())


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("y ~ xx", r"Column 'xx' used in the formula is not in the data\. Did you mean 'x'\?"),
        ("y ~ x + (1 | gg)", r"Column 'gg' .* Did you mean 'g'\?"),
        ("yy ~ x", r"Column 'yy' .* Did you mean 'y'"),
        ("y ~ x + (1 | nothing_like_it)", r"Column 'nothing_like_it' .* data\. Available"),
    ],
)
def test_missing_column(df, formula, match):
    with pytest.raises(MissingColumnError, match=match) as info:
        design(formula, df)
    assert "Available columns: y, x, z, a" in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, DataError)


def test_missing_column_without_suggestion(df):
    with pytest.raises(MissingColumnError, match=r"not in the data\. Available") as info:
        design("y ~ qqqq", df)
    assert "Did you mean" not in str(info.value)


@pytest.mark.parametrize(
    ("column", "rows", "formula", "match"),
    [
        ("x", [1, 3], "y ~ x", r"Column 'x' has 2 missing value\(s\), e\.g\. at rows \[1, 3\]"),
        ("y", [2], "y ~ x", r"Column 'y' has 1 missing value\(s\), e\.g\. at rows \[2\]"),
        ("g", [0, 4, 5], "y ~ x + (1 | g)", r"Column 'g' has 3 missing value\(s\)"),
        ("a", [2], "y ~ x + (1 | a)", r"Column 'a' has 1 missing value\(s\)"),
        ("z", [5], "y ~ x + (0 + z | a)", r"Column 'z' has 1 missing"),
        ("n", [0], "k | trials(n) ~ x", r"Column 'n' has 1 missing"),
    ],
)
def test_missing_values(df, column, rows, formula, match):
    data = df.astype({column: object})
    data.loc[rows, column] = None if column == "a" else np.nan
    if column != "a":
        data[column] = data[column].astype(float)
    family = "binomial" if "trials" in formula else "gaussian"
    with pytest.raises(MissingValueError, match=match) as info:
        design(formula, data, family=family)
    assert "never drops rows" in str(info.value)


def test_missing_values_in_unused_columns_are_fine(df):
    data = df.assign(unused=[np.nan] * 6)
    assert design("y ~ x + (1 | g)", data).n_obs == 6


def test_missing_value_reports_index_labels(df):
    data = df.set_index(pd.Index(list("abcdef")))
    data.loc["d", "x"] = np.nan
    with pytest.raises(MissingValueError, match=r"at rows \['d'\]"):
        design("y ~ x", data)


def test_single_level_factor(df):
    with pytest.raises(DataError, match=r"Grouping factor 'one' has a single level \('z'\)"):
        design("y ~ x + (1 | one)", df.assign(one="z"))


def test_single_level_interaction(df):
    data = df.assign(c1=1, c2="k")
    with pytest.raises(DataError, match=r"Grouping factor 'c1:c2' has a single level \('1:k'\)"):
        design("y ~ (1 | c1:c2)", data)


@pytest.mark.parametrize(
    ("formula", "extra", "column"),
    [
        ("y ~ x + x2", {"x2": lambda d: 2 * d.x}, "x2"),
        ("y ~ x + z + s", {"s": lambda d: d.x - 3 * d.z + 1}, "s"),
        ("y ~ x + c", {"c": lambda d: 4.0}, "c"),
    ],
)
def test_collinear_fixed_columns(df, formula, extra, column):
    data = df.assign(**extra)
    match = rf"fixed-effect column '{column}' is a linear combination of the columns before it"
    with pytest.raises(DataError, match=match):
        design(formula, data)


def test_full_dummy_set_with_intercept_is_fine_but_duplicate_dummy_is_not(df):
    # A full set of dummies plus an intercept never happens (formulaic drops one level) ...
    assert design("y ~ a", df).X.shape == (6, 3)
    # ... but a column equal to a dummy does.
    data = df.assign(isv=(df.a == "v").astype(float))
    with pytest.raises(DataError, match=r"column 'isv' is a linear combination"):
        design("y ~ a + isv", data)


def test_non_numeric_response(df):
    with pytest.raises(FamilyError, match=r"Response 'a' must be numeric \(found .*\)"):
        design("a ~ x", df)


@pytest.mark.parametrize(
    ("family", "response", "match"),
    [
        ("bernoulli", [0, 1, 2, 0, 1, 0], r"bernoulli response must be 0 or 1 .* found \[2\.0\]"),
        ("bernoulli", [0, 1, 0.5, 0, 1, 0], r"bernoulli family: .* found \[0\.5\]"),
        ("poisson", [0, 1, -2, 0, 1, 0], r"counts must be non-negative integers; found \[-2\.0\]"),
        ("poisson", [0, 1, 2.5, 0, 1, 0], r"counts must be non-negative integers; found \[2\.5\]"),
    ],
)
def test_response_does_not_fit_family(df, family, response, match):
    with pytest.raises(FamilyError, match=rf"Response 'r' does not fit the {family} family"):
        design("r ~ x", df.assign(r=response), family=family)
    with pytest.raises(FamilyError, match=match):
        design("r ~ x", df.assign(r=response), family=family)


def test_binomial_successes_exceed_trials(df):
    data = df.assign(k=[0, 1, 4, 1, 0, 3])
    with pytest.raises(FamilyError, match=r"successes exceed trials \(row 2: 4 > 3\)"):
        design("k | trials(n) ~ x", data, family="binomial")


def test_binomial_bad_trials(df):
    with pytest.raises(FamilyError, match=r"number of trials must be a non-negative integer"):
        design("k | trials(n) ~ x", df.assign(n=[3, 3, 3.5, 4, 4, 4]), family="binomial")


def test_no_rows(df):
    with pytest.raises(DataError, match=r"The data has no rows"):
        design("y ~ x", df.iloc[:0])


@pytest.mark.parametrize(
    ("formula", "data_change", "match"),
    [
        ("y ~ np.log(x)", {}, r"Column 'np\.log\(x\)' of the fixed effects has 1 infinite"),
        ("y ~ x", {"x": [0, 1, np.inf, 2, 3, 4]}, r"Column 'x' of the fixed effects .* rows \[2\]"),
        ("y ~ (np.log(x) | a)", {}, r"Column 'np\.log\(x\)' of the group term"),
        ("np.log(x) ~ y", {}, r"Column 'np\.log\(x\)' of the response has 1 infinite"),
        ("y ~ x", {"y": [0, -np.inf, 1, 2, 3, 4]}, r"Column 'y' of the response has 1 infinite"),
    ],
)
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_infinite_values(df, formula, data_change, match):
    with pytest.raises(DataError, match=match):
        design(formula, df.assign(**data_change))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_transform_producing_nan(df):
    with pytest.raises(DataError, match=r"Could not evaluate the fixed effects \('1 \+ np\.log"):
        design("y ~ np.log(x - 1)", df)


def test_encoding_new_data_never_changes_the_training_encoding():
    from formulaic import model_matrix
    from formulaic.errors import FactorEncodingError

    from hierbayes.design import encode_like_training

    spec = model_matrix("1 + Days", pd.DataFrame({"Days": [0.0, 1.0, 2.0]})).model_spec
    before = repr(spec.encoder_state)
    with pytest.raises(FactorEncodingError, match="Days"):
        encode_like_training(spec, pd.DataFrame({"Days": ["a"]}))
    assert repr(spec.encoder_state) == before
    out = encode_like_training(spec, pd.DataFrame({"Days": [3.0]}), output="pandas")
    assert out["Days"].tolist() == [3.0]


def test_unused_categories_are_dropped_not_reported_as_collinear():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "x": rng.normal(size=40),
            "trt": pd.Categorical(rng.choice(["a", "b"], 40), categories=["a", "b", "c"]),
            "g": np.repeat(list("abcd"), 10),
        }
    )
    design = make_design(parse_formula("y ~ x + trt + (1 | g)"), data)
    assert design.fixed_columns == ("Intercept", "x", "trt[T.b]")
    assert design.n_obs == 40
