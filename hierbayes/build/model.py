"""Build a PyMC model from a :class:`~hierbayes.design.Design` and resolved priors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.auto_laplace import prefer_joint_laplace
from hierbayes.build.crossed_marginal import add_crossed_likelihood, crossed_design, prefer_crossed
from hierbayes.build.cutpoints import CUTPOINT_DIM, add_cutpoints
from hierbayes.build.dpar import add_dpar, dpar_coords
from hierbayes.build.expanded import prefer_expanded
from hierbayes.build.groups import (
    PARAMETERIZATIONS,
    add_covariance,
    add_group_effects,
    choose_parameterization,
    group_dim,
)
from hierbayes.build.laplace import check_laplace, expand_laplace, sampled_choices
from hierbayes.build.likelihood import add_likelihood
from hierbayes.build.marginal import add_marginal_likelihood, factor_design
from hierbayes.build.nested_marginal import add_nested_likelihood, nested_chain
from hierbayes.build.partial import check_partial
from hierbayes.build.priors import prior_rv
from hierbayes.design import Design
from hierbayes.design.ordinal import cutpoint_labels
from hierbayes.design.weights import column_means
from hierbayes.errors import ModelSpecError
from hierbayes.priors import Prior

__all__ = [
    "CUTPOINT_DIM",
    "FIXED_DIM",
    "OBS_DIM",
    "build_model",
    "resolve_parameterization",
    "response_name",
]

OBS_DIM = "obs"
FIXED_DIM = "term"


def response_name(design: Design) -> str:
    """Name of the observed variable: the response column, or ``"y"`` for an expression."""
    name = design.spec.response
    taken = {"b", "sigma", "Intercept", "Intercept_c", "beta"}
    if not name.isidentifier() or name in taken or "|" in name:
        return "y"
    return name


def resolve_parameterization(
    design: Design, parameterization: str | Mapping[str, Any]
) -> dict[str, tuple[str, ...]]:
    """Parameterisation of each varying coefficient of each group term.

    Parameters
    ----------
    parameterization : str or dict
        ``"auto"``: gaussian models integrate out the effects of one grouping factor (the only
        one; with several, a nested one or else the one with the fewest groups; see
        :func:`auto_marginal_factor` and :mod:`hierbayes.build.marginal`), or all of them
        jointly when every factor nests in the next (:mod:`hierbayes.build.nested_marginal`;
        no crossed factor, no observation-level factor) or when every term is a crossed varying
        intercept and the cost model of :func:`~hierbayes.build.crossed_marginal.crossed_costs`
        prefers it (:mod:`hierbayes.build.crossed_marginal`); the other factors'
        coefficients, and all coefficients of other families, are centred or non-centred as
        chosen from the data by :func:`~hierbayes.build.groups.choose_parameterization`.
        ``"marginal"`` is the same for gaussian models and an error for others.
        ``"laplace"`` integrates one factor's effects out by a Laplace approximation, for any
        family concave in ``η`` (:mod:`hierbayes.build.laplace`); a dict naming several
        factors ``"laplace"`` integrates their varying intercepts out jointly. ``"expanded"``
        samples a single coefficient's or a ``||`` term's SDs as signed scales (``sd = |s|``);
        auto uses it where a factor's groups mostly hold one nested group
        (:mod:`hierbayes.build.expanded`), except that a string ``"auto"`` integrates such a
        pair of varying intercepts out jointly by Laplace where the family allows
        (:mod:`hierbayes.build.auto_laplace`), and on counts with an observation-level varying
        intercept integrates every factor's intercepts out jointly by Laplace
        (:mod:`hierbayes.build.observation_laplace`). The PyMC model samples Laplace terms
        non-centred (:func:`~hierbayes.build.laplace.sampled_choices`).
        ``"noncentered"``, ``"centered"``, or a dict by group term name whose values are one of
        those, a dict by coefficient name or a tuple with one entry per coefficient, e.g.
        ``{"school": {"Intercept": "centered", "cses": "noncentered"}}``. Inside a dict,
        ``"auto"`` (also the value of terms left out) chooses centred or non-centred per
        coefficient and integrates nothing out: name ``"marginal"`` for that.

    Returns
    -------
    dict
        Group term name -> one of ``"centered"``/``"noncentered"``/``"marginal"`` per
        coefficient (``"marginal"`` covers all coefficients of all terms of one factor).
    """
    names = [b.name for b in design.blocks]
    check_dpar_parameterization(design, parameterization)
    parameterization = expand_laplace(design, parameterization)  # build/laplace.py
    parameterization_was_auto = isinstance(parameterization, str) and parameterization == "auto"
    if parameterization == "auto" and design.dpar is not None:
        parameterization = dict.fromkeys(names, "auto")  # nothing integrated out: σ varies
    if isinstance(parameterization, str):
        marginal = None
        if parameterization == "marginal" or (
            parameterization == "auto" and design.family.name == "gaussian"
        ):
            marginal = auto_marginal_factor(design) or _no_factor(design, parameterization)
        if marginal is not None:
            rest = "auto" if parameterization == "marginal" else parameterization
            # factors that all nest are integrated out together (build/nested_marginal.py), and
            # crossed intercepts where the cost model prefers it (build/crossed_marginal.py)
            every = nested_chain(design) is not None or prefer_crossed(design)
            parameterization = {
                b.name: "marginal" if every or b.factor == marginal else rest for b in design.blocks
            }
        else:
            parameterization = dict.fromkeys(names, parameterization)
    elif not isinstance(parameterization, Mapping):
        raise ModelSpecError(
            f"parameterization must be a string or a dict by group term, got "
            f"{type(parameterization).__name__}."
        )
    unknown = [k for k in parameterization if k not in names]
    if unknown:
        raise ModelSpecError(
            f"parameterization names unknown group term(s) {unknown}; this model has {names}."
        )
    result = {}
    for block in design.blocks:
        value = parameterization.get(block.name, "auto")
        auto = None
        if isinstance(value, Mapping):
            bad = [k for k in value if k not in block.columns]
            if bad:
                raise ModelSpecError(
                    f"parameterization for '{block.name}' names unknown coefficient(s) {bad}; "
                    f"its coefficients are {list(block.columns)}."
                )
            choices = [value.get(c, "auto") for c in block.columns]
        elif isinstance(value, tuple | list):
            if len(value) != len(block.columns):
                raise ModelSpecError(
                    f"parameterization for '{block.name}' has {len(value)} entries; its "
                    f"coefficients are {list(block.columns)}."
                )
            choices = list(value)
        else:
            choices = [value] * len(block.columns)
        resolved = []
        for k, choice in enumerate(choices):
            if choice == "auto":
                auto = auto or prefer_expanded(
                    design, block, choose_parameterization(design, block)
                )
                resolved.append(auto[k])
            elif choice in PARAMETERIZATIONS:
                resolved.append(choice)
            else:
                raise ModelSpecError(
                    f"Unknown parameterization {choice!r} for '{block.name}'; choose 'auto', "
                    f"{', '.join(repr(p) for p in PARAMETERIZATIONS)}, or a dict by coefficient."
                )
        if "marginal" in resolved and set(resolved) != {"marginal"}:
            raise ModelSpecError(
                f"parameterization for '{block.name}' mixes 'marginal' with other choices; a "
                "group term's effects are integrated out all together or not at all."
            )
        check_partial(design, block, resolved)  # build/partial.py
        result[block.name] = tuple(resolved)
    _check_marginal(design, result)
    if parameterization_was_auto:  # build/auto_laplace.py
        result = prefer_joint_laplace(design, result)
    check_laplace(design, result)
    return result


def check_dpar_parameterization(design: Design, parameterization: object) -> None:
    """A :class:`ModelSpecError` for ``"marginal"`` in a model whose residual SD varies."""
    if design.dpar is None:
        return
    values = [parameterization]
    if isinstance(parameterization, Mapping):
        values = list(parameterization.values())
        values += [v for x in values if isinstance(x, Mapping) for v in x.values()]
        values += [v for x in values if isinstance(x, tuple | list) for v in x]
    if "marginal" in [v for v in values if isinstance(v, str)]:
        raise ModelSpecError(
            f"parameterization 'marginal' integrates the group effects out in closed form, "
            f"which needs one residual SD for all rows; with {design.dpar.name}="
            f"'{design.dpar.spec.formula}' it varies by row. Use 'auto', 'centered' or "
            "'noncentered'."
        )


def _no_factor(design: Design, parameterization: str) -> None:
    if parameterization == "marginal" and design.weights is not None and design.blocks:
        raise ModelSpecError(
            "parameterization 'marginal' does not take likelihood weights; use 'auto', "
            "'centered' or 'noncentered'."
        )
    if parameterization == "marginal" and design.family.name == "gaussian":
        raise ModelSpecError(
            "parameterization 'marginal' integrates out group effects, but this model has no "
            "group terms."
        )
    return None


def auto_marginal_factor(design: Design) -> str | None:
    """The grouping factor whose effects ``"auto"`` and ``"marginal"`` integrate out, if any.

    Gaussian models get the effects of one factor integrated out (see
    :mod:`hierbayes.build.marginal`): the factor itself when there is one. With several, a factor
    nested in another (each of its groups inside one group of the other, as lecturers in
    departments or classes in schools) is preferred, the one with the fewest groups among them
    (a factor with one row per group nests in any other and does not count); without nesting,
    the factor with the fewest groups (the first of them on a tie). Other families get None.

    Why: sampled effects of a nested factor and the SD of the factor it is nested in form a
    funnel (the parent's effect trades off against its children's average), which integrating
    the children out removes; and with crossed factors only, the centred effects of a factor
    with few groups form a slow ridge with the intercept. On InstEval (1,128 lecturers nested in
    14 departments, crossed with 2,972 students) the smallest bulk ESS of a population-level
    parameter in 4 x 1000 draws was 517 with the departments integrated out and 1,050 with the
    lecturers (``benchmarks/run.py --models insteval``).
    """
    if design.family.name != "gaussian" or not design.blocks or design.weights is not None:
        return None
    codes: dict[str, tuple[np.ndarray, int]] = {}
    for block in design.blocks:
        codes.setdefault(block.factor, (block.codes, len(block.levels)))
    nested = [
        a
        for a, (ca, ja) in codes.items()
        if ja < design.n_obs  # one row per group (an observation-level effect) nests in anything
        and any(
            b != a and jb < ja and np.unique(ca * jb + cb).size == ja
            for b, (cb, jb) in codes.items()
        )
    ]
    return min(nested or list(codes), key=lambda factor: codes[factor][1])


def _check_marginal(design: Design, result: dict[str, tuple[str, ...]]) -> None:
    chosen = [b for b in design.blocks if result[b.name] and result[b.name][0] == "marginal"]
    if not chosen:
        return
    if design.family.name != "gaussian":
        raise ModelSpecError(
            f"parameterization 'marginal' needs a gaussian family; this model is "
            f"{design.family.name}. Use 'auto', 'centered' or 'noncentered'."
        )
    if design.weights is not None:
        raise ModelSpecError(
            "parameterization 'marginal' does not take likelihood weights; use 'auto', "
            "'centered' or 'noncentered'."
        )
    factors = sorted({b.factor for b in chosen})
    nests = len(chosen) == len(design.blocks) and (
        nested_chain(design) is not None or crossed_design(design) is not None
    )
    if len(factors) > 1 and not nests:
        raise ModelSpecError(
            f"parameterization 'marginal' can integrate out one grouping factor's effects; "
            f"{factors} were given. Keep it for one of them, or use 'auto', which picks a "
            "nested factor, else the one with the fewest groups. (Several factors are "
            "integrated out together when every group term is 'marginal' and they all nest "
            "or all are crossed varying intercepts.)"
        )
    left = [b.name for b in design.blocks if b.factor in factors and b not in chosen]
    if left:
        raise ModelSpecError(
            f"parameterization 'marginal' for factor '{factors[0]}' must cover all its group "
            f"terms; also give it for {left}."
        )


def _coords(design: Design, obs_index: pd.Index | None) -> dict[str, Any]:
    coords: dict[str, Any] = {
        OBS_DIM: np.asarray(obs_index if obs_index is not None else np.arange(design.n_obs)),
        FIXED_DIM: list(design.fixed_columns),
    }
    slopes = [c for c in design.fixed_columns if c != "Intercept"]
    coords["slope_term"] = slopes
    for block in design.blocks:
        coords[group_dim(block)] = list(block.levels)
        coords[block.term_dim] = list(block.columns)
        coords[f"{block.term_dim}_bis"] = list(block.columns)
    if design.response_levels is not None:
        coords[CUTPOINT_DIM] = cutpoint_labels(design.response_levels)
    return coords | dpar_coords(design)


def _fixed_effects(design: Design, priors: dict[str, Prior]) -> tuple[Any, Any, np.ndarray]:
    """Population effects; returns the fixed part of the linear predictor ``W @ θ`` as
    ``(eta, θ, W)``, with ``W = [1, X_c]`` and ``θ = [Intercept_c, β]`` (either part may be absent).

    With an intercept, the other columns are centred and the sampled intercept ``Intercept_c`` is
    the intercept at the means of the predictors; ``b`` holds the coefficients on the original
    scale (``Intercept = Intercept_c - mean(X) @ beta``).
    """
    X = design.X
    columns = list(design.fixed_columns)
    has_intercept = "Intercept" in columns
    slope_idx = [j for j, c in enumerate(columns) if c != "Intercept"]
    Xs = X[:, slope_idx]
    # weighted with likelihood weights, as the kernel's centring
    centred = has_intercept or design.family.cutpoints  # cut-points: at the means, as brms
    means = column_means(Xs, design.weights) if centred else np.zeros(len(slope_idx))
    Xc = Xs - means
    eta: Any = 0.0
    beta = None
    if slope_idx:
        slope_priors = [priors[f"b|{columns[j]}"] for j in slope_idx]
        same = len({(p.dist, tuple(k for k, _ in p.params)) for p in slope_priors}) == 1
        if same:
            stacked = {
                k: np.array([np.asarray(p.kwargs[k], dtype=float) for p in slope_priors])
                for k in slope_priors[0].kwargs
            }
            beta = prior_rv(
                "beta", Prior(slope_priors[0].dist, **stacked), label="b", dims="slope_term"
            )
        else:
            parts = [prior_rv(f"b|{columns[j]}", priors[f"b|{columns[j]}"]) for j in slope_idx]
            beta = pm.Deterministic("beta", pt.stack(parts), dims="slope_term")
        eta = pt.dot(pt.as_tensor(Xc), beta)
    if has_intercept:
        intercept_c = prior_rv("Intercept_c", priors["Intercept"], label="Intercept")
        eta = eta + intercept_c
        intercept = intercept_c - (pt.dot(means, beta) if beta is not None else 0.0)
    values = []
    k = 0
    for c in columns:
        if c == "Intercept":
            values.append(intercept)
        else:
            values.append(beta[k])
            k += 1
    pm.Deterministic("b", pt.stack(values) if values else pt.zeros(0), dims=FIXED_DIM)
    parts = ([pt.atleast_1d(intercept_c)] if has_intercept else []) + (
        [beta] if beta is not None else []
    )
    theta = pt.concatenate(parts) if parts else None
    W = np.column_stack(([np.ones(len(Xc))] if has_intercept else []) + [Xc])
    return eta, theta, W


def build_model(
    design: Design,
    priors: dict[str, Prior],
    parameterization: str | Mapping[str, Any] = "auto",
    obs_index: pd.Index | None = None,
) -> pm.Model:
    """Build the PyMC model.

    Parameters
    ----------
    design : Design
    priors : dict
        Resolved priors (see :func:`hierbayes.priors.resolve_priors`).
    parameterization : str or dict
        See :func:`resolve_parameterization`.
    obs_index : Index, optional
        Labels of the observations (the data's index); positions when omitted.

    Returns
    -------
    pymc.Model
        With variables ``b`` (dims ``term``), ``sd|<term>``, ``cor|<term>``, ``u|<term>``
        (dims ``(<factor>, <term>__term)``), ``sigma`` (gaussian) and the observed response.
        When one factor is marginalised, its ``u|<term>`` and the observed response are replaced
        by the potential ``marginal_loglik``; :func:`hierbayes.conditional.complete_marginal`
        adds them to the draws after sampling.
    """
    # PyMC samples the effects that the compiled log-density integrates out by Laplace
    choices = sampled_choices(resolve_parameterization(design, parameterization))
    marginal = [b.name for b in design.blocks if choices[b.name][0] == "marginal"]
    with pm.Model(coords=_coords(design, obs_index)) as model:
        fixed, theta, W = _fixed_effects(design, priors)
        rest: Any = 0.0
        chols = []
        for block in design.blocks:
            if block.name in marginal:
                chols.append(add_covariance(block, priors)[0])
                continue
            u = add_group_effects(block, priors, choices[block.name])
            codes = block.codes
            if block.columns == ("Intercept",):
                rest = rest + u[codes, 0]
            else:
                rest = rest + (pt.as_tensor(block.Z) * u[codes]).sum(axis=1)
        ordinal = design.family.cutpoints
        varying = design.dpar.name if design.dpar is not None else None
        own = {
            n: prior_rv(n, priors[n]) for n in design.family.params if not ordinal and n != varying
        }
        if ordinal:  # the cut-points, with the linear predictor as written (uncentred)
            own["cutpoints"], shift = add_cutpoints(design, priors)
            fixed = fixed + shift
        if varying is not None:  # sigma="~ ...": the parameter per row
            own[varying] = add_dpar(design, priors)
        sigma = own.get("sigma")
        nested = nested_chain(design, marginal) if marginal else None
        if nested is not None:
            named = dict(zip(marginal, chols, strict=True))
            add_nested_likelihood(design, nested, named, sigma, theta, W)
        elif (crossed := crossed_design(design, marginal) if marginal else None) is not None:
            sds = {name: chol[0, 0] for name, chol in zip(marginal, chols, strict=True)}
            add_crossed_likelihood(design, crossed, sds, sigma, theta, W)
        elif marginal:
            others = len(marginal) < len(design.blocks)
            add_marginal_likelihood(
                design,
                factor_design(design, marginal),
                chols,
                sigma,
                theta,
                W,
                rest + pt.zeros(design.n_obs) if others else None,
            )
        else:
            eta = fixed + rest + (design.offset if design.offset is not None else 0.0)
            eta = eta + pt.zeros(design.n_obs)
            add_likelihood(response_name(design), eta, design, OBS_DIM, params=own)
    return model
