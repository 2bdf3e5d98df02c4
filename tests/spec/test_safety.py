"""Formulas are data, never code: the whitelist, the restricted evaluation namespace, and every bad
formula getting a typed error that names the culprit."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

import hierbayes as hb
from hierbayes.cli import main
from hierbayes.errors import (
    FormulaSyntaxError,
    HierbayesError,
    MissingColumnError,
    ModelSpecError,
)
from hierbayes.rebuild import Recipe
from hierbayes.spec import parse_formula, parse_levels
from hierbayes.spec.safety import (
    ALLOWED_FUNCTIONS,
    FORMULA_CONTEXT,
    check_expression,
    check_formula,
)

FSE, MSE = FormulaSyntaxError, ModelSpecError

# (formula, error, match): match names the culprit
CODE = [
    ("y ~ x + np.f2py.os.system('touch pwned') + (1|g)", FSE, r"'np\.f2py\.os\.system' is not an"),
    ("np.f2py.os.system('touch pwned') ~ x + (1|g)", FSE, r"'np\.f2py\.os\.system' is not an"),
    ("y ~ __import__('os').system('id')", FSE, r"'__import__' is not an allowed function"),
    ("y ~ eval('1')", FSE, r"'eval' is not an allowed function"),
    ("y ~ exec('x = 1')", FSE, r"'exec' is not an allowed function"),
    ("y ~ open('/etc/passwd')", FSE, r"'open' is not an allowed function"),
    ("y ~ compile('1', '', 'eval')", FSE, r"'compile' is not an allowed function"),
    ("y ~ getattr(np, 'f2py')", FSE, r"'getattr' is not an allowed function"),
    ("y ~ globals()", FSE, r"'globals' is not an allowed function"),
    ("y ~ vars()", FSE, r"'vars' is not an allowed function"),
    ("y ~ breakpoint()", FSE, r"'breakpoint' is not an allowed function"),
    ("y ~ np.load('x.npy', allow_pickle=True)", FSE, r"'np\.load' is not an allowed function"),
    ("y ~ np.fromfile('x')", FSE, r"'np\.fromfile' is not an allowed function"),
    ("y ~ np.lib.format.open_memmap('x')", FSE, r"'np\.lib\.format\.open_memmap' is not an"),
    ("y ~ np.ctypeslib.load_library('a', '.')", FSE, r"'np\.ctypeslib\.load_library' is not"),
    ("y ~ pd.read_pickle('x')", FSE, r"'pd\.read_pickle' is not an allowed function"),
    ("y ~ os.system('id')", FSE, r"'os\.system' is not an allowed function"),
    ("y ~ I(np.log.__class__)", FSE, r"attribute 'np\.log\.__class__' is not allowed"),
    ("y ~ I(x.__class__.__bases__)", FSE, r"attribute 'x\.__class__\.__bases__' is not"),
    ("y ~ I(().__class__)", FSE, r"'\(\)\.__class__' is not allowed"),
    ("y ~ I(np.pi * x)", FSE, r"attribute 'np\.pi' is not allowed"),
    ("y ~ I(lambda: 0)", FSE, r"'lambda: 0' is not allowed in a formula \(Python Lambda\)"),
    ("y ~ I([c for c in x])", FSE, r"\(Python ListComp\)"),
    ("y ~ I({x: 1})", FSE, r"'\{x: 1\}' is not allowed in a formula \(Python Dict\)"),
    ("y ~ I(x if x else 0)", FSE, r"'x if x else 0' is not allowed .*IfExp"),
    ("y ~ I((a := x))", FSE, r"'a := x' is not allowed .*NamedExpr"),
    ("y ~ I(f'{x}')", FSE, r"JoinedStr"),
    ("y ~ I(x and z)", FSE, r"'x and z' is not allowed .*BoolOp"),
    ("y ~ I(~x)", FSE, r"'~x' is not allowed .*UnaryOp"),
    ("y ~ I(x << 2)", FSE, r"'x << 2' is not allowed .*BinOp"),
    ("y ~ x[0]", FSE, r"'x\[0\]' is not allowed in a formula \(Python Subscript\)"),
    ("y ~ {x + 1}", FSE, r"Python code in braces"),
    ("y ~ I(x)(1)", FSE, r"'I\(x\)' is not an allowed function"),
    ("y ~ I(__builtins__)", FSE, r"'__builtins__' is not allowed"),
    ("y ~ I(__FORMULAIC_CONTEXT__)", FSE, r"'__FORMULAIC_CONTEXT__' is not allowed"),
    ("y ~ C(x, eval)", FSE, r"'eval' is not a contrast coding"),
    ("y ~ C(x, contr.__class__)", FSE, r"'contr\.__class__' is not a contrast coding"),
    ("y ~ C(x, Treatment(__import__('os')))", FSE, r"__import__\('os'\)' is not a literal"),
    ("y ~ C(x, Sum(bad=1))", FSE, r"Sum\(\.\.\.\) has no argument 'bad'"),
    ("y ~ C(x, levels=open('f'))", FSE, r"'open\('f'\)' is not a literal"),
    ("y ~ poly(x, degree=__import__('os'))", FSE, r"'__import__\('os'\)' is not a literal"),
    ("y ~ poly(x, 10**6)", FSE, r"'10\*\*6' is not a literal"),
    ("y ~ poly(x, 1000)", FSE, r"1000 is too large here"),
    ("y ~ bs(x, df=500)", FSE, r"500 is too large here"),
    ("y ~ I(9**9**9)", FSE, r"The power '9\*\*9\*\*9' is not allowed"),
    ("y ~ I((2**100)**100)", FSE, r"The power '\(2\*\*100\)\*\*100' is not allowed"),
    ("y ~ I(x**10000)", FSE, r"The power 'x\*\*10000' is not allowed"),
    ("y ~ np.log(x, out=x)", FSE, r"np\.log\(\.\.\.\) has no argument 'out'"),
    ("y ~ center(x, **kw)", FSE, r"center\(\.\.\.\) has no argument '\*\*'"),
    ("y ~ np.log(*x)", FSE, r"np\.log\(\.\.\.\) needs a column"),
    ("y ~ np.log()", FSE, r"np\.log\(\.\.\.\) needs a column"),
    ("y ~ I(x, z)", FSE, r"I\(\.\.\.\) takes at most 1 positional"),
    ("y ~ Q(x)", FSE, r"Q\(\.\.\.\) takes a column name in quotes"),
    ("y ~ np.log(C(g))", FSE, r"C\(\.\.\.\) makes a whole term"),
    ("y ~ I(poly(x, 2))", FSE, r"poly\(\.\.\.\) makes a whole term"),
    ("y ~ lag(x)", FSE, r"'lag' is not an allowed function"),
    ("y ~ hashed(g)", FSE, r"'hashed' is not an allowed function"),
    ("y ~ exp2(x)", FSE, r"'exp2' is not an allowed function"),
    ("y ~ abs(x)", FSE, r"'abs' is not an allowed function in a formula\. Did you mean np\.abs\?"),
    ("y ~ sqrt(x)", FSE, r"'sqrt' is not an allowed .* Did you mean np\.sqrt\?"),
    ("y ~ log1p(x)", FSE, r"'log1p' is not an allowed .* Did you mean np\.log1p\?"),
    ("y ~ np.fabs(x)", FSE, r"'np\.fabs' is not an allowed .* Did you mean np\.abs\?"),
    ("y ~ numpy.log(x)", FSE, r"'numpy\.log' is not an allowed .* Did you mean np\.log\?"),
    ("y ~ math.log(x)", FSE, r"'math\.log' is not an allowed .* Did you mean np\.log\?"),
    ("y ~ 'x'", FSE, r"\"'x'\" is not a term"),
    ('y ~ x + "abc"', FSE, r"'\"abc\"' is not a term"),
    ("y ~ I('a' * 10)", FSE, r"'a' cannot be used here: only numbers"),
    ("y ~ I(b'x' + x)", FSE, r"b'x' cannot be used here"),
    ("y ~ trials(n)", FSE, r"trials\(\.\.\.\) names the binomial trials column"),
    ("y | trials(n + 1) ~ x", FSE, r"Expected 'response \| trials\(column\)'"),
    ("y | trials(__import__('os')) ~ x", FSE, r"Expected 'response \| trials\(column\)'"),
    ("y | weights(w) ~ x", FSE, r"Expected 'response \| trials\(column\)'"),
    ("y ~ x\x00", FSE, r"NUL character"),
    ("y ~ " + "x + " * 3000 + "x", FSE, r"12005 characters; the most allowed is 10000"),
    ("y ~ x + (1 | os.system('id'))", FSE, r"'os\.system' is not an allowed function"),
    ("y ~ x + (np.f2py.os.system('id') | g)", FSE, r"'np\.f2py\.os\.system' is not an"),
]

# formulas that parse but say what nobody means (section 2), and malformed responses
MEANING = [
    ("1 ~ x + (1|g)", FSE, r"The response '1' is not one column"),
    ("np.log(2) ~ x", FSE, r"The response 'np\.log\(2\)' is not one column"),
    ("y ~ y + x + (1|g)", MSE, r"The response column 'y' is also a predictor"),
    ("y ~ x + (y | g)", MSE, r"The response column 'y' is also a predictor"),
    ("y ~ x + (1 | y)", MSE, r"The response column 'y' is also the grouping factor"),
    ("np.log(y) ~ I(y**2)", MSE, r"The response column 'y' is also a predictor"),
    ("y ~ x - nosuch + (1|g)", FSE, r"'- nosuch' removes the term 'nosuch'"),
    ("y ~ x + (1 + x - z | g)", FSE, r"'- z' removes the term 'z'"),
    ("y ~ x*z - x:w", FSE, r"'- x:w' removes the term 'x:w'"),
    ("y ~ x + (~z | g)", FSE, r"Unexpected '~' inside parentheses"),
    ("y ~ x + (1 | ~g)", FSE, r"Unexpected '~' inside parentheses"),
    ("y ~ x ~ z", FSE, r"Expected a single '~'"),
    ("y 0 ~ x + (1|g)", FSE, r"The response 'y 0' is not one column"),
    ("y* ~ x", FSE, r"The response 'y\*' is not one column"),
    ("y + z ~ x", FSE, r"The response 'y \+ z' is not one column"),
    ("y:z ~ x", FSE, r"The response 'y:z' is not one column"),
    ("y ~ x + (1 / g)", FSE, r"'\(1 / g\)' looks like a group term with '/' typed for '\|'"),
    ("y ~ x + (1 + x / g)", FSE, r"write '\(1 \+ x \| g\)'"),
    ("y ~ x + (0 + x / g)", FSE, r"'\(0 \+ x / g\)' looks like a group term"),
    ("y ~ x + 1/g", FSE, r"'1/g' looks like a group term"),
    # brackets that formulaic's own parser fails on untyped
    ("y ~ x * z + ([g)", FSE, r"Could not parse .*check its brackets"),
    ("y ~ ([)", FSE, r"Could not parse .*check its brackets"),
]

BAD = CODE + MEANING


def test_catalogue_is_large_enough():
    assert len(BAD) >= 90


@pytest.mark.parametrize(("formula", "error", "match"), BAD, ids=[b[0][:60] for b in BAD])
def test_bad_formula_is_a_typed_error(formula, error, match):
    with pytest.raises(error, match=match):
        parse_formula(formula)


@pytest.mark.parametrize(("formula", "error", "match"), CODE, ids=[c[0][:60] for c in CODE])
def test_validator_alone_refuses_code(formula, error, match):
    with pytest.raises(FormulaSyntaxError, match=match):
        check_formula(formula)


def test_caret_points_at_the_culprit():
    formula = "y ~ x + np.f2py.os.system('id') + (1 | g)"
    with pytest.raises(FormulaSyntaxError) as info:
        check_formula(formula)
    assert info.value.position == formula.index("np.f2py")
    formula = "y ~ I(x + __import__('os'))"
    with pytest.raises(FormulaSyntaxError) as info:
        check_formula(formula)
    assert info.value.position == formula.index("__import__")


def test_non_string_is_a_typed_error():
    with pytest.raises(FormulaSyntaxError, match=r"must be a string .* got int"):
        check_formula(123)
    with pytest.raises(FormulaSyntaxError, match=r"must be a string .* got bytes"):
        check_expression(b"x")


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x",
        "y | trials(n) ~ np.log(x) + C(g, Sum) + I(z**2) + (1 + x | g)",
        "y ~ `my col` + np.log(`a b`)",
        "y ~ C(g, contr.treatment('b')) + C(h, Treatment(reference='a'), levels=['a', 'b'])",
        "y ~ C(g, Helmert(reverse=False)) + C(h, Poly(scores=[1, 2, 4])) + C(k, contr.SAS)",
        "np.log(y) ~ poly(x, 2) + bs(x, df=4) + cr(x, 3) + cc(x, df=5) + cs(x, df=4)",
        "y ~ center(x) + scale(x, ddof=0) + standardize(x) + offset(np.log(t))",
        "y ~ I(x > 2) + I(g == 'a') + I(-x) + I(2**x) + I(x**-0.5) + log(x) + x:z + x*z - 1",
        "y ~ (1|g) + (x||h) + (1|a/b) + (1|a:b)",
        "y~-1+x",
        "y ~ np.abs(x) + np.exp(x) + np.log1p(x) + np.log2(x) + np.log10(x) + np.sqrt(x)",
        "y ~ np.square(x) + exp(x) + log2(x) + log10(x) + Q('my col') + I(x // 2 + x % 2)",
    ],
)
def test_allowed_formulas_pass(formula):
    check_formula(formula)


def test_allowed_functions_are_listed_in_the_error():
    with pytest.raises(FormulaSyntaxError) as info:
        check_formula("y ~ system(x)")
    for name in ALLOWED_FUNCTIONS:
        assert name in str(info.value)


# -- through the model, the level equations, the CLI and a saved fit ------------------------------


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    n = 40
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.uniform(0.5, 3.0, size=n),
            "z": rng.normal(size=n),
            "g": np.repeat(list("abcd"), n // 4),
            "my col": rng.normal(size=n),
        }
    )


def _attack(where: Path, name: str = "pwned") -> str:
    return f"np.f2py.os.system('touch {where / name}')"


def test_model_attack_runs_nothing(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for formula in (
        f"y ~ x + {_attack(tmp_path, 'a')} + (1|g)",
        f"{_attack(tmp_path, 'b')} ~ x + (1|g)",
        f"y ~ x + ({_attack(tmp_path, 'c')} | g)",
    ):
        with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
            hb.Model(formula, data)
    assert list(tmp_path.iterdir()) == []


def test_level_equations_attack_runs_nothing(data, tmp_path):
    attack = _attack(tmp_path)
    with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        hb.Model.from_levels(f"y ~ 1 + {attack}", data=data, group="g")
    with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        hb.Model.from_levels("y ~ 1 + x", {"x": f"~ {attack}"}, data=data, group="g")
    with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        parse_levels("y ~ 1 + x", {attack: "~ 1"}, group="g")
    assert not (tmp_path / "pwned").exists()


def test_cli_attack_runs_nothing_and_prints_one_line(data, tmp_path, capsys):
    data.to_csv(tmp_path / "data.csv", index=False)
    formula = f"y ~ x + {_attack(tmp_path)} + (1|g)"
    assert main(["fit", str(tmp_path / "data.csv"), formula]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "hierbayes: error: 'np.f2py.os.system' is not an allowed function" in err
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("y* ~ x", r"The response 'y\*' is not one column .* \(at character 2\)"),
        ("y ~ x + I(x.__class__)", r"attribute 'x\.__class__' is not allowed"),
        ("y ~ abs(x) + (1|g)", r"Did you mean np\.abs\?"),
        ("y ~ x - nosuch + (1|g)", r"'- nosuch' removes the term 'nosuch'"),
        ("y ~ y + (1|g)", r"The response column 'y' is also a predictor"),
    ],
)
def test_cli_formula_errors_are_one_line_exit_2(data, tmp_path, capsys, formula, match):
    data.to_csv(tmp_path / "data.csv", index=False)
    assert main(["fit", str(tmp_path / "data.csv"), formula]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("hierbayes: error: ")
    assert re.search(match, err)


def test_cli_folder_as_data_file_is_not_called_missing(tmp_path, capsys):
    assert main(["fit", str(tmp_path), "y ~ x + (1|g)"]) == 2
    err = capsys.readouterr().err
    assert f"'{tmp_path}' is a folder; give the path of a CSV file" in err
    assert "does not exist" not in err


def test_rebuilding_a_tampered_formula_runs_nothing(data, tmp_path):
    model = hb.Model("y ~ x + (1|g)", data)
    recipe = Recipe.of(model)
    tampered = Recipe(**{**recipe.__dict__, "formula": f"y ~ x + {_attack(tmp_path)} + (1|g)"})
    with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        tampered.build(model.design.data)
    assert not (tmp_path / "pwned").exists()


def test_loading_a_tampered_saved_fit_runs_nothing(ri_sim_fit, tmp_path):
    path = tmp_path / "fit.hb"
    ri_sim_fit.save(path)
    meta_path = path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["formula"] = f"y ~ x + {_attack(tmp_path)} + (1 | g)"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(HierbayesError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        hb.load(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("formula", "error", "match"),
    [
        ("y ~ x + nosuch + (1|g)", MissingColumnError, r"Column 'nosuch' used in the formula"),
        ("y ~ np.log(nosuch) + (1|g)", MissingColumnError, r"Column 'nosuch' used in"),
        ("y ~ x + (1|nosuch)", MissingColumnError, r"Column 'nosuch' used in the formula"),
        ("y ~ x + `no such` + (1|g)", MissingColumnError, r"Column 'no such' used in"),
        ("y ~ abs(x) + (1|g)", FSE, r"Did you mean np\.abs\?"),
        ("y ~ x - z + (1|g)", FSE, r"'- z' removes the term 'z'"),
        ("y ~ offset(nosuch) + (1 | g)", MissingColumnError, r"Column 'nosuch'"),
    ],
)
def test_model_with_data(data, formula, error, match):
    with pytest.raises(error, match=match):
        hb.Model(formula, data)


# -- the allowed transforms give the right numbers through the restricted namespace ---------------

TRANSFORMED = [
    ("np.abs(z)", lambda d: np.abs(d.z)),
    ("np.exp(z)", lambda d: np.exp(d.z)),
    ("np.log(x)", lambda d: np.log(d.x)),
    ("np.log1p(x)", lambda d: np.log1p(d.x)),
    ("np.log2(x)", lambda d: np.log2(d.x)),
    ("np.log10(x)", lambda d: np.log10(d.x)),
    ("np.sqrt(x)", lambda d: np.sqrt(d.x)),
    ("np.square(z)", lambda d: d.z**2),
    ("log(x)", lambda d: np.log(d.x)),
    ("exp(z)", lambda d: np.exp(d.z)),
    ("center(z)", lambda d: d.z - d.z.mean()),
    ("scale(z)", lambda d: (d.z - d.z.mean()) / d.z.std(ddof=1)),
    ("standardize(z)", lambda d: (d.z - d.z.mean()) / d.z.std(ddof=0)),
    ("I(x**2 - 3 * z)", lambda d: d.x**2 - 3 * d.z),
    ("I(x // 1 + x % 1)", lambda d: d.x),
    ("`my col`", lambda d: d["my col"]),
    ("Q('my col')", lambda d: d["my col"]),
]


@pytest.mark.parametrize(("term", "reference"), TRANSFORMED, ids=[t[0] for t in TRANSFORMED])
def test_allowed_transform_values(data, term, reference):
    model = hb.Model(f"y ~ {term} + (1 | g)", data)
    X = model.design.X
    assert model.design.fixed_columns[0] == "Intercept"
    np.testing.assert_allclose(X[:, 1], np.asarray(reference(data), dtype=float), rtol=1e-12)


def test_contrasts_and_splines_make_their_columns(data):
    model = hb.Model("y ~ C(g, Sum) + poly(z, 2) + bs(x, df=4) + (1 | g)", data)
    columns = model.design.fixed_columns
    assert sum(c.startswith("C(g, Sum)") for c in columns) == 3
    assert sum(c.startswith("poly(z, 2)") for c in columns) == 2
    assert sum(c.startswith("bs(x, df=4)") for c in columns) == 4
    sum_coded = model.design.X[:, [c.startswith("C(g, Sum)") for c in columns]]
    np.testing.assert_array_equal(sum_coded[data.g.to_numpy() == "d"], -1.0)


# -- second line of defence: the evaluation namespace alone -------------------------------------


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("np.f2py.os.system('touch {p}')", r"np\.f2py|f2py"),
        ("__import__('os')", r"'__import__' is not an allowed function"),
        ("open('{p}', 'w')", r"'open' is not an allowed function"),
        ("exec(\"open('{p}', 'w')\")", r"'exec' is not an allowed function"),
        ("lag(x)", r"'lag' is not an allowed function"),
    ],
)
def test_evaluation_namespace_blocks_what_the_validator_would(data, tmp_path, expr, match):
    """formulaic given FORMULA_CONTEXT cannot reach os, builtins or unlisted transforms."""
    target = tmp_path / "pwned"
    with pytest.raises(Exception, match=match):  # formulaic wraps what the stand-ins raise
        model_matrix("0 + " + expr.format(p=target), data, context=FORMULA_CONTEXT)
    assert not target.exists()


def test_odd_text_gives_no_python_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Python warns of '\ ' in a string it parses
        with pytest.raises(FormulaSyntaxError, match=r"'a\\ b' cannot be used here"):
            check_formula(r"y ~ I('a\ b')")


def test_reencoding_a_tampered_encoding_runs_nothing(data, tmp_path):
    """Prediction re-encodes new data with the training encoding: its formula is checked too."""
    from formulaic import Formula
    from formulaic import ModelSpec as FormulaicSpec

    from hierbayes.design import encode_like_training

    model = hb.Model("y ~ x + (1 | g)", data)
    trained = model.design.fixed_formulaic_spec
    np.testing.assert_array_equal(
        encode_like_training(trained, data, output="pandas").to_numpy()[:, 1], data.x
    )
    tampered = FormulaicSpec(formula=Formula(f"1 + x + {_attack(tmp_path)}"))
    with pytest.raises(FormulaSyntaxError, match=r"'np\.f2py\.os\.system' is not an allowed"):
        encode_like_training(tampered, data, output="pandas")
    assert not (tmp_path / "pwned").exists()


def test_columns_named_like_builtins_or_transforms_still_work(data):
    """The evaluation namespace blocks builtins, but data columns come first."""
    frame = data.assign(sum=data.x, id=data.z, lag=data.x + 1)
    model = hb.Model("y ~ np.log(sum) + id + I(lag * 2) + (1 | g)", frame)
    np.testing.assert_allclose(model.design.X[:, 1], np.log(frame["sum"]))
    np.testing.assert_allclose(model.design.X[:, 2], frame["id"])
    np.testing.assert_allclose(model.design.X[:, 3], 2 * frame["lag"])


def test_interaction_of_a_factor_with_itself_is_refused():
    """The formula side of composite group labels: 'g:g' is one factor written twice."""
    with pytest.raises(ModelSpecError, match=r"Grouping factor 'g' appears twice in 'g:g'"):
        parse_formula("y ~ x + (1 | g:g)")


def test_deep_nesting_and_many_terms_are_handled():
    with pytest.raises(FormulaSyntaxError, match=r"too many nested parentheses"):
        check_formula("y ~ " + "I(" * 1000 + "x" + ")" * 1000)
    many = "y ~ " + "+".join(f"x{i}" for i in range(1500))  # its rebuilt terms are longer
    assert len(parse_formula(many).fixed.terms) == 1501
