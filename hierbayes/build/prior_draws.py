"""Draws of every parameter from the priors, and of the response for the model's own design.

The draws come from the PyMC model built with every group term non-centred: the same priors
and the same data-generating process as any other parameterisation (a marginal model replaces
its response by a potential, which forward sampling cannot draw from). Draws are taken one
after another from one seeded generator, so draw ``i`` is the same whatever the number of draws
asked for.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pymc as pm

from hierbayes.build.model import build_model, response_name
from hierbayes.design import Design
from hierbayes.priors import Prior

__all__ = ["PRIOR_VARIABLES", "draw_prior"]

# prefixes of the stored variables: population effects, SDs, correlations, group effects, sigma
PRIOR_VARIABLES = ("b", "sd|", "cor|", "u|", "sigma")


def draw_prior(
    design: Design,
    priors: dict[str, Prior],
    draws: int,
    random_seed: int | np.random.SeedSequence | None = None,
    *,
    obs_index: pd.Index | None = None,
) -> dict[str, np.ndarray]:
    """``draws`` joint draws of the parameters from the priors and of the response given them.

    Parameters
    ----------
    design : Design
        The model's design: its predictors, groups (and binomial trials) are kept as they are.
    priors : dict
        Resolved priors (:attr:`hierbayes.Model.prior_values`).
    draws : int
        Number of draws.
    random_seed : int or SeedSequence, optional
        Seeds the draws.
    obs_index : Index, optional
        Labels of the observations.

    Returns
    -------
    dict
        ``"b"`` (draws, terms), ``"sd|<term>"`` (draws, coefficients), ``"cor|<term>"``
        (draws, q, q) for correlated terms, ``"u|<term>"`` (draws, groups, coefficients),
        ``"sigma"`` (draws,) for gaussian models, and ``"y"`` (draws, observations): the response
        as the family draws it (counts as integers).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> d = draw_prior(m.design, m.prior_values, 3, random_seed=1)
    >>> sorted(d), d["y"].shape, d["cor|Subject"].shape
    (['b', 'cor|Subject', 'sd|Subject', 'sigma', 'u|Subject', 'y'], (3, 180), (3, 2, 2))
    """
    model = build_model(design, priors, "noncentered", obs_index)
    response = response_name(design)
    names = [
        v.name
        for v in model.deterministics + model.free_RVs
        if v.name in ("b", "sigma")
        or (v.name.startswith(PRIOR_VARIABLES) and v.name.count("|") == 1)
    ] + [response]
    seed = random_seed
    if isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1)[0])
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.WARNING)  # not "Sampling: [...]" on every call
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            drawn = pm.sample_prior_predictive(
                draws=draws,
                model=model,
                var_names=names,
                random_seed=seed,
                return_inferencedata=False,
                compile_kwargs={"mode": "FAST_COMPILE"},
            )
    finally:
        pymc_log.setLevel(level)
    out = {name: np.asarray(drawn[name]) for name in names if name != response}
    out["y"] = np.asarray(drawn[response])
    return out
