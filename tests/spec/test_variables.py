"""column_names reads the columns of formula text without evaluating it, as formulaic would."""

from __future__ import annotations

import pytest
from formulaic import Formula

from hierbayes.spec.variables import column_names

# checked formula text on which formulaic's own (eval-using) answer is right
SAME_AS_FORMULAIC = [
    "1 + np.log(x) + C(g, Sum) + `my col` + I(z**2) + Q('a b') + u:v",
    "C(g, contr.treatment('b')) + C(h, Treatment('a')) + C(k, levels=['a', 'b'])",
    "x * z + (x + z)**2 + log(w) + exp(v)",
    "0 + I(np.log(e) + `a b`)",
    "np.log(y)",
]


@pytest.mark.parametrize("text", SAME_AS_FORMULAIC)
def test_same_columns_as_formulaic(text):
    assert column_names(text) == sorted(str(v) for v in Formula(text).required_variables)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("center(x) + scale(w) + standardize(v)", ["v", "w", "x"]),  # formulaic finds none
        ("poly(x, 2) + bs(w, df=4)", ["w", "x"]),  # formulaic misses w
        ("I(x + )", []),  # unreadable text: no names, the evaluation fails later
    ],
)
def test_columns_of_stateful_transforms_and_unreadable_text(text, names):
    assert column_names(text) == names


def test_calls_are_never_evaluated(tmp_path):
    text = f"I(x + 0*__import__('os').system('touch {tmp_path / 'pwned'}'))"
    assert column_names(text) == ["x"]
    assert not (tmp_path / "pwned").exists()
