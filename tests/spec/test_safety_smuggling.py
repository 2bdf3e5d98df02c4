"""Code smuggled past the formula check: backquotes inside strings, offsets, dunder names, the
evaluation namespace's builtins. Each attack would create a file; none may, and each is a typed
error naming what is not allowed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix
from formulaic.errors import FactorEvaluationError

import hierbayes as hb
from hierbayes.cli import main
from hierbayes.errors import FileFormatError, FormulaSyntaxError
from hierbayes.spec.safety import FORMULA_CONTEXT, check_expression, check_formula, check_offset
from hierbayes.spec.variables import column_names
from hierbayes.spec.whitelist import sanitized


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {"y": rng.normal(size=40), "x": rng.normal(size=40), "g": np.repeat(list("abcd"), 10)}
    )


def _touch(tmp_path: Path) -> str:
    return f"__import__('os').system('touch {tmp_path / 'pwned'}')"


def _no_call_touch(tmp_path: Path) -> str:
    """The same, written with ``chr (n)`` and a space, so no name token is followed by '('."""
    text = f"__import__('os').system('touch {tmp_path / 'pwned'}')"
    return "+".join(f"chr ({ord(c)})" for c in text)


def _smuggled(tmp_path: Path) -> str:
    return f"I(x == '`' + {_touch(tmp_path)} + '`')"


def test_backquotes_in_a_string_do_not_hide_code_from_the_check(data, tmp_path):
    with pytest.raises(FormulaSyntaxError, match=r"only numbers may appear in arithmetic"):
        hb.Model(f"y ~ x + {_smuggled(tmp_path)} + (1 | g)", data)
    with pytest.raises(FormulaSyntaxError, match=r"only numbers may appear in arithmetic"):
        check_formula(f"y ~ {_smuggled(tmp_path)}")
    assert not (tmp_path / "pwned").exists()


def test_backquotes_in_a_string_in_a_level2_equation(data, tmp_path):
    with pytest.raises(FormulaSyntaxError, match=r"only numbers may appear in arithmetic"):
        hb.Model.from_levels("y ~ x", {"x": f"~ 1 + {_smuggled(tmp_path)}"}, group="g", data=data)
    assert not (tmp_path / "pwned").exists()


def test_backquotes_in_a_string_through_the_cli(data, tmp_path, capsys):
    csv = tmp_path / "d.csv"
    data.to_csv(csv, index=False)
    code = main(["fit", str(csv), f"y ~ x + {_smuggled(tmp_path)} + (1 | g)"])
    assert code != 0
    assert "only numbers may appear in arithmetic" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()


def test_sanitized_text_is_what_formulaic_evaluates():
    assert sanitized("I(x == '`' + f() + '`')") == "I(x == '`' + f() + '`')"
    assert sanitized("np.log(`a b`)") == "np.log( B__ )"
    with pytest.raises(FormulaSyntaxError, match=r"empty backquoted name"):
        check_formula("y ~ np.log(``)")


@pytest.mark.parametrize(
    ("offset", "match"),
    [
        ("x.__class__", r"'__class__' is not allowed|attribute 'x\.__class__'"),
        ("x + 0*chr (111)", r"'chr' is not an allowed function"),
        ("__builtins__", r"'__builtins__' is not allowed"),
    ],
)
def test_offset_argument_is_checked_as_one_term(data, offset, match):
    with pytest.raises(FormulaSyntaxError, match=match):
        hb.Model("y ~ x + (1 | g)", data, offset=offset)
    with pytest.raises(FormulaSyntaxError, match=match):
        check_offset(offset)


def test_offset_built_without_calls_runs_nothing(data, tmp_path):
    offset = f"x + 0*{_no_call_touch(tmp_path)}"
    with pytest.raises(FormulaSyntaxError, match=r"'chr' is not an allowed function"):
        hb.Model("y ~ x + (1 | g)", data, offset=offset)
    assert not (tmp_path / "pwned").exists()


def test_offset_argument_through_the_cli(data, tmp_path, capsys):
    csv = tmp_path / "d.csv"
    data.to_csv(csv, index=False)
    code = main(["fit", str(csv), "y ~ x + (1 | g)", "--offset", _touch(tmp_path)])
    assert code != 0
    assert "is not an allowed function" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()


def test_a_saved_offset_is_checked_before_the_model_is_rebuilt(ri_sim_fit, tmp_path):
    path = tmp_path / "fit.hb"
    ri_sim_fit.save(path)
    meta = json.loads((path / "model.json").read_text())
    meta["offset"] = _touch(tmp_path)
    (path / "model.json").write_text(json.dumps(meta))
    refused = r"bad 'offset'.*'__import__\('os'\)\.system' is not an allowed"
    with pytest.raises(FileFormatError, match=refused):
        hb.load(path)
    meta["offset"] = None
    meta["formula"] = f"y ~ x + {_smuggled(tmp_path)} + (1 | g)"
    (path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match=r"only numbers may appear in arithmetic"):
        hb.load(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "expr", ["x.__class__ + z", "x + __builtins__", "x + a.__dict__.b", "x + _FORMULAIC_CONTEXT"]
)
def test_dunder_names_are_refused_in_a_right_hand_side(expr):
    with pytest.raises(FormulaSyntaxError, match=r"reserved name"):
        check_expression(expr)


def test_a_call_written_with_a_space_is_refused():
    with pytest.raises(FormulaSyntaxError, match=r"'chr \(' is not allowed in a formula"):
        check_expression("x + chr (111)")


@pytest.mark.parametrize(
    "code",
    [
        "I(x + 0*__builtins__['__import__']('os').system('touch {p}'))",
        "I(x + 0*__builtins__.__import__('os').system('touch {p}'))",
    ],
)
def test_the_evaluation_namespace_blocks_builtins(tmp_path, code):
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(FactorEvaluationError, match=r"__builtins__"):
        model_matrix(code.format(p=tmp_path / "pwned"), df, context=FORMULA_CONTEXT)
    assert not (tmp_path / "pwned").exists()


def test_the_check_refuses_what_the_namespace_cannot_stop():
    chain = "().__class__.__base__.__subclasses__()"
    with pytest.raises(FormulaSyntaxError, match=r"not allowed"):
        check_formula(f"y ~ I(x + 0*[c for c in {chain}][0])")


def test_column_names_evaluate_nothing(tmp_path):
    assert column_names(_smuggled(tmp_path)) == ["x"]
    assert column_names(f"0 + I(x + 0*{_touch(tmp_path)})") == ["x"]
    assert not (tmp_path / "pwned").exists()
