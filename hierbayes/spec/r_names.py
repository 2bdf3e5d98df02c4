"""What to write instead of R's functions that lme4 and brms users put in formulas.

A formula may call only whitelisted functions (:mod:`hierbayes.spec.whitelist`); these R names
are refused like any other, with a hint that gives hierbayes's spelling of the same model.

Examples
--------
>>> r_hint("factor")
" R's factor(x) is C(x) here: 'y ~ C(period)'."
>>> r_hint("np.mean")
''
"""

from __future__ import annotations

__all__ = ["R_HINTS", "r_hint"]

_CBIND = (
    " lme4's binomial response cbind(successes, failures) is written 'successes | trials(n) ~ "
    "...' with family='binomial', n the number of trials (successes + failures): add that "
    "column to the data first."
)

R_HINTS: dict[str, str] = {
    "factor": " R's factor(x) is C(x) here: 'y ~ C(period)'.",
    "ordered": " An ordered response is an ordered pandas Categorical (family='cumulative').",
    "cbind": _CBIND,
    "relevel": " R's relevel(x, ref = 'b') is C(x, contr.treatment('b')) here.",
}


def r_hint(name: str) -> str:
    """The hint for R function ``name`` (with a leading space), or ``""``."""
    return R_HINTS.get(name, "")
