"""Models written as level-1 and level-2 equations: :meth:`hierbayes.Model.from_levels`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from hierbayes.design.levels import level_data
from hierbayes.families import Family
from hierbayes.frames import as_pandas, level2_as_pandas
from hierbayes.priors import Prior
from hierbayes.spec.levels import parse_levels

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["from_levels"]


def from_levels(
    cls: type[Model],
    level1: str,
    level2: Mapping[str, str] | None = None,
    *,
    random: Sequence[str] | Mapping[str, Sequence[str]] = ("Intercept",),
    group: str | Sequence[str],
    data: pd.DataFrame,
    level2_data: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    correlated: bool = True,
    family: str | Family = "gaussian",
    priors: Mapping[str, Prior] | None = None,
    parameterization: str | Mapping[str, Any] = "auto",
    trials: str | None = None,
    offset: str | None = None,
    weights: str | None = None,
    missing: str = "raise",
    link: str | None = None,
    sigma: str | None = None,
    shape: str | None = None,
    phi: str | None = None,
) -> Model:
    """A model written as level-1 and level-2 equations (Raudenbush & Bryk's spelling).

    The result is the same model as the equivalent formula (equal specs, designs, priors and,
    with the same seed, draws); :attr:`spec` ``.formula`` shows that formula. See
    :mod:`hierbayes.spec.levels` for the rules.

    Parameters
    ----------
    level1 : str
        Level-1 equation without group terms, e.g. ``"mAch ~ 1 + cses"``.
    level2 : dict, optional
        Level-2 equation of each level-1 coefficient, by ``"Intercept"`` or the level-1 term:
        ``{"Intercept": "~ 1 + meanses", "cses": "~ 1 + meanses"}``. Coefficients left out are
        constant (``"~ 1"``); a coefficient not in ``random`` has no group deviation but may
        still depend on level-2 predictors.
    random : list of str or dict, default ``["Intercept"]``
        Coefficients that vary randomly across groups; with three levels, the same list
        applies at both upper levels, or a dict by grouping column chooses per level.
    group : str or list of str
        Grouping column (``"school"``), or columns from the outermost level in
        (``["school", "class"]`` or ``"school/class"``: classes nested in schools, as lme4's
        ``(1 | school/class)``).
    data : DataFrame
        One row per observation.
    level2_data : DataFrame or dict of DataFrame, optional
        One row per group, merged by the grouping column (a dict by grouping column with
        several levels). Level-2 predictors may also be columns of ``data``: each must be
        constant within every group.
    correlated : bool
        Whether coefficients varying across the same groups are correlated (``|``) or not
        (``||``).
    family, priors, parameterization, trials, offset, weights, missing, link, sigma, shape, phi
        As for :class:`Model` (an ``offset(...)`` in the level-1 equation is kept, as in
        a formula).

    Returns
    -------
    Model
        The model, with ``spec.formula`` its formula spelling.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model.from_levels(
    ...     level1="mAch ~ 1 + cses",
    ...     level2={"Intercept": "~ 1 + meanses + sector", "cses": "~ 1 + meanses + sector"},
    ...     random=["Intercept", "cses"], group="school",
    ...     data=hb.datasets.load("hsb").drop(columns=["meanses", "sector"]),
    ...     level2_data=hb.datasets.load("hsb_schools"))
    >>> m.spec.formula
    'mAch ~ 1 + cses + meanses + sector + cses:meanses + cses:sector + (1 + cses | school)'
    """
    levels = parse_levels(level1, level2, random=random, group=group, correlated=correlated)
    data, level2_data = as_pandas(data), level2_as_pandas(level2_data)
    merged, declared = level_data(levels, data, level2_data)
    return cls(
        levels.formula,
        merged,
        level2=declared or None,
        family=family,
        priors=priors,
        parameterization=parameterization,
        trials=trials,
        offset=offset,
        weights=weights,
        missing=missing,
        link=link,
        sigma=sigma,
        shape=shape,
        phi=phi,
    )
