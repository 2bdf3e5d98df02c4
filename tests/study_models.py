"""Tiny models for the simulation-study tests: fits take a fraction of a second.

SBC checks a model against data drawn from its own priors, so the priors must make data that
the model is meant for. The Normal(0, 1) priors of ``TIGHT`` are that on the gaussian and logit
scales. On the log scale of counts they are not: with ``sd|g[x]`` up to 2 and ``x`` up to 3 a
group's rate reaches ``e^10``, and 10% of the data sets drawn for ``count ~ x + (1 + x | g)``
held a count above 6000 (up to 200 000). ``COUNTS`` keeps rates within about a factor of 20
of 1 (the largest count of a data set: median 10, 90th percentile 70).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import hierbayes as hb

TIGHT = {
    "Intercept": hb.Prior("Normal", mu=0.0, sigma=1.0),
    "b|x": hb.Prior("Normal", mu=0.0, sigma=1.0),
    "sigma": hb.Prior("HalfNormal", sigma=1.0),
    "sd": hb.Prior("HalfNormal", sigma=1.0),
}

COUNTS = {
    "Intercept": hb.Prior("Normal", mu=0.0, sigma=0.5),
    "b|x": hb.Prior("Normal", mu=0.0, sigma=0.5),
    "sd": hb.Prior("HalfNormal", sigma=0.5),
    # overdispersion between none (large shape) and strong (variance 2 mu^2 at shape 0.5)
    "shape": hb.Prior("Gamma", alpha=4.0, beta=1.0),
}

#: priors of the other families' own parameters that simulate data the model is meant for:
#: a gamma or beta whose shape or precision is near 0 puts data at 0 (or 1) exactly
OWN_PARAMETERS = {
    "shape": hb.Prior("Gamma", alpha=4.0, beta=1.0),
    "phi": hb.Prior("Gamma", alpha=4.0, beta=0.4),
    "cutpoints": hb.Prior("Normal", mu=0.0, sigma=1.5),
}

RESPONSES = {
    "gaussian": "y",
    "student_t": "y",
    "lognormal": "pos",
    "gamma": "pos",
    "beta": "prop",
    "zero_inflated_poisson": "count",
    "cumulative": "rating",
    "bernoulli": "yes",
    "binomial": "k | trials(trials)",
    "poisson": "count",
    "negativebinomial": "count",
}


def tiny_data(seed: int = 3, n_groups: int = 8, n_per_group: int = 6) -> pd.DataFrame:
    """Predictors, groups and placeholder responses of every family (responses get simulated)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per_group)
    n = g.size
    return pd.DataFrame(
        {
            "g": [f"g{j}" for j in g],
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "yes": rng.integers(0, 2, n),
            "k": rng.integers(0, 6, n),
            "trials": np.full(n, 5),
            "count": rng.poisson(2.0, n),
            "pos": rng.gamma(2.0, 1.0, n),
            "prop": rng.beta(2.0, 2.0, n),
            "rating": pd.Categorical(rng.integers(1, 4, n), categories=[1, 2, 3], ordered=True),
            # a second factor crossed with g (4 groups, each in every g) and one nested in g (two
            # subgroups of each g, labelled within it: the term is g:s)
            "h": [f"h{j}" for j in np.arange(n) % 4],
            "s": [f"s{j}" for j in (np.arange(n) % n_per_group) * 2 // n_per_group],
        }
    )


def tiny_model(
    family: str,
    formula_rhs: str,
    parameterization: str,
    n_per_group: int = 6,
    priors: dict[str, hb.Prior] | None = None,
    link: str | None = None,
) -> hb.Model:
    """``<response> ~ formula_rhs`` of ``family`` on 8 groups of ``n_per_group``, with the
    SBC priors of its scale (``COUNTS`` for the log link of counts, ``TIGHT`` otherwise),
    updated with ``priors`` (``"sd"`` for every group SD)."""
    response = RESPONSES[family]
    data = tiny_data(n_per_group=n_per_group)
    model = hb.Model(f"{response} ~ {formula_rhs}", data=data, family=family, link=link)
    counts = family in ("poisson", "negativebinomial", "zero_inflated_poisson")
    chosen = {**OWN_PARAMETERS, **(COUNTS if counts else TIGHT), **(priors or {})}
    chosen_priors = {k: v for k, v in chosen.items() if k in model.priors.index}
    for name in model.priors.index:
        if name.startswith("sd|"):
            chosen_priors[name] = chosen["sd"]
    return hb.Model(
        f"{response} ~ {formula_rhs}",
        data=data,
        family=family,
        link=link,
        priors=chosen_priors,
        # "centered,noncentered": per coefficient of the term of g
        parameterization=(
            {"g": parameterization.split(",")} if "," in parameterization else parameterization
        ),
    )
