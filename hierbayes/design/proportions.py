"""A binomial response given as proportions, as lme4 users write it, is refused with the fix.

lme4's ``glmer(prop ~ x + (1 | g), weights = n, family = binomial)`` takes proportions with the
number of trials as weights. Here (as in brms) the binomial response is the number of successes,
``k | trials(n)``, and ``weights=`` are likelihood weights that count a row's log-likelihood
``w`` times: read as counts, the proportions would be refused as non-integers, and read with
``weights=n`` they would be a different model. So a binomial response of proportions is an error
that says what to write, whether it comes with ``weights=``, ``trials`` or neither.
"""

from __future__ import annotations

import numpy as np

from hierbayes.errors import FamilyError

__all__ = ["check_binomial_proportions"]


def _is_proportions(y: np.ndarray) -> bool:
    finite = y[np.isfinite(y)]
    return bool(
        finite.size and np.all((finite >= 0) & (finite <= 1)) and np.any(finite != np.round(finite))
    )


def check_binomial_proportions(
    y: np.ndarray,
    response: str,
    *,
    trials: str | None,
    weights: str | None,
    weight_values: np.ndarray | None,
) -> None:
    """Raise :class:`FamilyError` when a binomial response holds proportions, not counts.

    Parameters
    ----------
    y : ndarray
        The response.
    response : str
        Its name in the formula.
    trials, weights : str or None
        The trials column (``y | trials(n)`` or ``trials=``) and the weights column, if given.
    weight_values : ndarray or None
        The weights, to say whether ``y * w`` are whole numbers (lme4's reading).

    Examples
    --------
    >>> import numpy as np
    >>> check_binomial_proportions(np.array([2.0, 0.0, 5.0]), "k", trials="n", weights=None,
    ...                            weight_values=None)
    >>> check_binomial_proportions(np.array([0.25, 0.5]), "prop", trials=None, weights="size",
    ...                            weight_values=np.array([4.0, 2.0]))
    Traceback (most recent call last):
    ...
    hierbayes.errors.FamilyError: Response 'prop' holds proportions (0.25, 0.5, ...) with ...
    """
    if not _is_proportions(y):
        return
    finite = y[np.isfinite(y)]
    shown = ", ".join(f"{v:.4g}" for v in finite[finite != np.round(finite)][:2])
    # rounded: a product such as (1 / 49) * 49 is 0.9999999999999999, not a count
    counts = "data['k'] = (data['{r}'] * data['{n}']).round().astype(int)"
    if weights is not None and trials is None:
        whole = weight_values is not None and np.allclose(
            y * weight_values, np.round(y * weight_values), rtol=0, atol=1e-6
        )
        fix = counts.format(r=response, n=weights) + (
            " (whole numbers here)" if whole else ", rounded to whole numbers"
        )
        raise FamilyError(
            f"Response '{response}' holds proportions ({shown}, ...) with weights='{weights}': "
            f"that is lme4's glmer({response} ~ ..., weights = {weights}, family = binomial). "
            "Here the binomial response is the number of successes and weights= count each "
            f"row's log-likelihood that many times, a different model. Write the successes: "
            f"{fix}, then 'k | trials({weights}) ~ ...' without weights=."
        )
    n = trials or "n"
    raise FamilyError(
        f"Response '{response}' holds proportions ({shown}, ...), but the binomial response is "
        f"the number of successes out of trials({n}): write {counts.format(r=response, n=n)} "
        f"(whole numbers) and 'k | trials({n}) ~ ...'; for proportions that are not counts "
        "(shares of an area, of time) use family='beta'."
    )
