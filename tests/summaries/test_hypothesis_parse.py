"""The hypothesis parser: a whitelist of arithmetic over known parameter names, never eval."""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.errors import SummaryError
from hierbayes.summaries.hypothesis_parse import parse_hypothesis

NAMES = ["Intercept", "cses", "sector[T.Public]", "cses:sector[T.Public]", "C(period)[T.2]"]


def _value(text: str, **values: float) -> float:
    h = parse_hypothesis(text, NAMES)
    arrays = {k: np.array([v]) for k, v in values.items()}
    return float(h.evaluate(arrays)[0])


def test_longest_name_wins_and_names_may_hold_operators() -> None:
    h = parse_hypothesis("cses:sector[T.Public] < 0", NAMES)
    assert h.parameters == ["cses:sector[T.Public]"]
    assert h.operator == "<"
    h = parse_hypothesis("C(period)[T.2] - cses >= 1", NAMES)
    assert h.parameters == ["C(period)[T.2]", "cses"]
    assert h.operator == ">="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cses - Intercept = 0", 2.0 - 5.0),
        ("2 * cses > Intercept / 4", 4.0 - 1.25),
        ("-(cses + 1) <= 3", -3.0 - 3.0),
        ("cses == 2", 0.0),
        ("cses:sector[T.Public] < 0", 0.5),
    ],
)
def test_evaluates_lhs_minus_rhs(text: str, expected: float) -> None:
    values = {"cses": 2.0, "Intercept": 5.0, "cses:sector[T.Public]": 0.5}
    assert _value(text, **values) == pytest.approx(expected)


def test_point_and_linearity() -> None:
    assert parse_hypothesis("cses - Intercept = 0", NAMES).point
    assert not parse_hypothesis("cses > 0", NAMES).point
    assert parse_hypothesis("2 * cses - Intercept / 3 = 1", NAMES).is_linear()
    assert not parse_hypothesis("cses * Intercept = 1", NAMES).is_linear()
    assert not parse_hypothesis("1 / cses = 1", NAMES).is_linear()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true') = 0", "contains Call"),
        ("cses.real > 0", "contains Attribute"),
        ("cses ** 2 > 0", r"contains the operator \*\*"),
        ("cses % 2 > 0", "contains the operator %"),
        ("meanses > 0", "names 'meanses', which is not a parameter"),
        ("0 < cses < 1", "exactly one comparison"),
        ("cses + 1", "has no comparison"),
        ("cses != 0", "exactly one comparison"),
        ("'a' < cses", "is not a number"),
        ("cses > (", "is not an expression"),
        ("", "non-empty string"),
        ("1 > 0", "involves no parameter"),
        ("_hbp_0 > 0", "reserved"),
        ("[cses] > 0", "contains List"),
        ("(lambda: 0)() > cses", "contains Call"),
        ("cses if cses else 0 > 1", "has no comparison"),
        ("(cses := 1) > 0", "is not an expression"),
    ],
)
def test_anything_else_is_an_error(text: str, message: str) -> None:
    with pytest.raises(SummaryError, match=message):
        parse_hypothesis(text, NAMES)


def test_long_text_is_rejected() -> None:
    with pytest.raises(SummaryError, match="at most 1000 characters"):
        parse_hypothesis("cses + " * 200 + "1 > 0", NAMES)
