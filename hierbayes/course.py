"""Change course when a default fit fails: switch the parameterisation of the group terms whose
posterior says the other one suits, raise ``target_accept`` after divergences, run again, and say
so; when the fit still fails, name the parameter and what to try.

The first run at the chosen settings is the pilot: a fit that is clean (no divergent transition,
R-hat <= 1.01 on every population parameter) costs nothing more. A failing one is diagnosed from
its own draws:

* **Which parameterisation suits a factor** is read off the posterior: for each group ``j`` and
  coefficient ``k`` the shrinkage ratio ``r_jk = Var(u_jk | y) / E(sd_k² | y)`` is about 1 when
  the group's own data say little beyond the population distribution (non-centred suits: the
  effect follows its SD) and near 0 when they pin the effect down (centred suits: the effect
  stays where its data put it while the SD moves). The rule is the one
  :func:`hierbayes.build.groups.choose_parameterization` and
  :mod:`hierbayes.build.glm_choice` apply before sampling (centre when ``τ² I > 1``, i.e.
  ``r = 1 / (1 + τ² I) < 1/2`` for the median group), now with the posterior's own variances,
  so it also judges factors the rule cannot (one row per group, families with parameters of
  their own). A coefficient is switched only when its ratio lies clearly on the other side
  (:data:`SHRINKAGE_BAND`: below 1/3 or above 2/3), and only when ``"auto"`` chose it.
* **Divergences** at the default ``target_accept`` also raise it to
  :data:`~hierbayes.inference.RAISED_TARGET_ACCEPT` (smaller steps).

The fit is then run once more, all of it, with the same seed (deterministic); its draws replace
the first run's unless it is worse (more population parameters over R-hat 1.01, or divergences
where there were none). What was done lands in the posterior's ``attrs["sampling_notes"]``, which
``fit.summary()`` prints; a fit that still fails gets a note naming its worst parameter and what
to try.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from hierbayes.convergence_stats import row_statistic
from hierbayes.course_extend import (
    MAX_EXTENSIONS,
    combine_runs,
    convergence_rows,
    extension_seed,
    integration_check_failed,
    longer_chains,
    min_bulk_ess,
    slow_mixing,
)
from hierbayes.density.adaptation import mass_matrix_adaptation
from hierbayes.density.layout import make_layout
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.density.sampler import compile_density
from hierbayes.diagnostics import ESS_PER_CHAIN_MIN, REQUESTED_CHAINS
from hierbayes.diagnostics import _rows as population_rows
from hierbayes.inference import RAISED_TARGET_ACCEPT, sample_compiled

__all__ = [
    "RHAT_LIMIT",
    "SHRINKAGE_BAND",
    "Trouble",
    "change_course",
    "proposed_parameterization",
    "sample_on_course",
    "shrinkage_ratios",
    "switchable_terms",
    "trouble",
]

RHAT_LIMIT = 1.01
# switch a coefficient to centred when its median group's posterior variance is below this share
# of the between-group variance (τ² I > 2), to non-centred when above the second (τ² I < 1/2);
# in between either suits about as well (a run again would cost a whole fit for little)
SHRINKAGE_BAND = (1 / 3, 2 / 3)
_WORDS = {"centered": "centred", "noncentered": "non-centred"}

Runner = Callable[[Mapping[str, tuple[str, ...]], float], xr.DataTree]
# the same sampler with other chains: (parameterisation, target_accept, draws a chain)
Extender = Callable[[Mapping[str, tuple[str, ...]], float, int], xr.DataTree]


class Trouble(tuple):
    """``(divergences, {parameter: R-hat})`` of a run: its population parameters over
    :data:`RHAT_LIMIT`, worst first."""

    @property
    def divergences(self) -> int:
        return int(self[0])

    @property
    def rhat(self) -> dict[str, float]:
        return dict(self[1])

    def __bool__(self) -> bool:
        return bool(self[0]) or bool(self[1])

    def score(self) -> tuple[int, int, float]:
        """Smaller is better: parameters over the limit, divergences at all, worst R-hat."""
        worst = max(self.rhat.values(), default=1.0)
        return (len(self.rhat), int(self.divergences > 0), worst)


def trouble(idata: xr.DataTree) -> Trouble:
    """Divergences and the population parameters (the rows of ``fit.diagnostics.table``: fixed
    effects, group SDs and correlations, sigma) whose rank-normalised split R-hat exceeds
    :data:`RHAT_LIMIT`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> post = xr.Dataset({"sigma": (("chain", "draw"), rng.normal(size=(4, 200)))})
    >>> post["sigma"][0] += 3   # one chain elsewhere
    >>> stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 200), bool))})
    >>> t = trouble(xr.DataTree.from_dict({"posterior": post, "sample_stats": stats}))
    >>> t.divergences, sorted(t.rhat)
    (0, ['sigma'])
    """
    posterior = idata["posterior"].to_dataset()
    stats = idata["sample_stats"].to_dataset() if "sample_stats" in idata.children else None
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    over: dict[str, float] = {}
    if posterior.sizes.get("chain", 1) > 1 and posterior.sizes.get("draw", 0) >= 4:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for var, coords, _ in population_rows(posterior):
                value = row_statistic(posterior, var, coords, "rhat")
                if np.isfinite(value) and value > RHAT_LIMIT:
                    label = var + ("[" + ", ".join(coords.values()) + "]" if coords else "")
                    over[label] = value
    ordered = tuple(sorted(over.items(), key=lambda kv: -kv[1]))
    return Trouble((divergences, ordered))


def shrinkage_ratios(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Median over groups of ``Var(u_jk | y) / E(sd_k² | y)`` for each coefficient ``k`` of
    group term ``name`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(1)
    >>> sd = np.full((2, 500, 1), 2.0)
    >>> u = rng.normal(0, [[0.2], [0.2], [2.0]], size=(2, 500, 3, 1))  # 2 pinned, 1 free
    >>> post = xr.Dataset({"sd|g": (("chain", "draw", "t"), sd),
    ...                    "u|g": (("chain", "draw", "g", "t"), u)})
    >>> shrinkage_ratios(post, "g").round(2).tolist()
    [0.01]
    """
    u = np.asarray(posterior[f"u|{name}"].values, dtype=float)  # chain, draw, J, q
    sd = np.asarray(posterior[f"sd|{name}"].values, dtype=float)  # chain, draw, q
    u = u.reshape(-1, *u.shape[2:])
    sd2 = (sd.reshape(-1, sd.shape[-1]) ** 2).mean(axis=0)  # q
    ratio = u.var(axis=0) / np.maximum(sd2, 1e-300)[None, :]  # J x q
    return np.median(ratio, axis=0)


def switchable_terms(
    requested: str | Mapping[str, Any], chosen: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Group terms whose centred/non-centred choice was left to ``"auto"`` (not integrated out).

    Examples
    --------
    >>> chosen = {"g": ("noncentered",), "h": ("centered",), "m": ("marginal",)}
    >>> switchable_terms("auto", chosen)
    ['g', 'h']
    >>> switchable_terms({"g": "centered"}, chosen)
    ['h']
    >>> switchable_terms("noncentered", chosen)
    []
    >>> switchable_terms("laplace", {"g": ("laplace",), "h": ("centered",)})  # the rest: "auto"
    ['h']
    """
    if isinstance(requested, str):
        names = list(chosen) if requested in ("auto", "marginal", "laplace", "agq") else []
    else:
        names = [n for n in chosen if requested.get(n, "auto") == "auto"]
    return [n for n in names if all(c in ("centered", "noncentered") for c in chosen[n])]


def proposed_parameterization(
    posterior: xr.Dataset,
    parameterization: Mapping[str, tuple[str, ...]],
    switchable: Sequence[str],
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The parameterisation the posterior suggests for the ``switchable`` terms, and one line of
    reasons per term changed (none: keep the current one).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(1)
    >>> u = rng.normal(0, 0.1, (2, 300, 8, 1))
    >>> post = xr.Dataset({"sd|g": (("chain", "draw", "t"), np.full((2, 300, 1), 0.1)),
    ...                    "u|g": (("chain", "draw", "g", "t"), u)})
    >>> new, why = proposed_parameterization(post, {"g": ("centered",)}, ["g"])
    >>> new["g"]
    ('noncentered',)
    """
    new = {k: tuple(v) for k, v in parameterization.items()}
    reasons = []
    for name in switchable:
        if f"u|{name}" not in posterior or f"sd|{name}" not in posterior:
            continue
        ratios = shrinkage_ratios(posterior, name)
        terms = [str(t) for t in posterior[f"sd|{name}"][posterior[f"sd|{name}"].dims[-1]].values]
        choice = list(new[name])
        for k, ratio in enumerate(ratios):
            if not np.isfinite(ratio) or SHRINKAGE_BAND[0] <= ratio <= SHRINKAGE_BAND[1]:
                continue
            suits = "centered" if ratio < SHRINKAGE_BAND[0] else "noncentered"
            if suits != choice[k]:
                reasons.append(
                    f"{name}[{terms[k]}] {_WORDS[choice[k]]} -> {_WORDS[suits]} (a typical group's "
                    f"posterior variance is {ratio:.2f} of the between-group variance)"
                )
                choice[k] = suits
        new[name] = tuple(choice)
    return new, reasons


def _advice(
    trouble_: Trouble,
    parameterization: Mapping[str, tuple[str, ...]],
    suggested: Mapping[str, tuple[str, ...]],
    target: float = 0.0,
    length: tuple[int, int] = (1000, 1000),
) -> str:
    """What to try when the final run still fails, naming its worst parameter; the other
    parameterisation of its term only where the final posterior (``suggested``) favours it, a
    higher ``target_accept`` only where the run's (``target``) was lower, and longer chains than
    the run's ``length`` (draws and warm-up per chain): at least 4,000 and 2,000, and twice the
    run's.

    Examples
    --------
    >>> _advice(Trouble((1, ())), {}, {}, 0.95)
    '1 divergent transition remains: try target_accept=0.99, or the other parameterization for \
the group term whose SD is smallest.'
    >>> _advice(Trouble((2, ())), {}, {}, 0.99)
    '2 divergent transitions remain at target_accept=0.99: try the other parameterization for \
the group term whose SD is smallest.'
    >>> _advice(Trouble((0, (("b[x]", 1.02),))), {}, {}, 0.8, (3000, 1000))
    'b[x] still has R-hat 1.020 (> 1.01): try more draws and tuning (e.g. draws=6000, tune=2000).'
    """
    parts = []
    if trouble_.rhat:
        worst, value = next(iter(trouble_.rhat.items()))
        draws, tune = max(4000, 2 * length[0]), max(2000, 2 * length[1])
        tip = f"more draws and tuning (e.g. draws={draws}, tune={tune})"
        if worst.startswith("sd|"):
            term = worst[3:].split("[")[0]
            better = suggested.get(term, ())
            if better and better != parameterization.get(term) and better[0] in _WORDS:
                tip += f", or parameterization={{{term!r}: {better[0]!r}}}"
            tip += ", or a more informative prior on it"
        parts.append(
            f"{worst} still has R-hat {value:.3f} (> {RHAT_LIMIT}"
            + (f"; {len(trouble_.rhat) - 1} more" if len(trouble_.rhat) > 1 else "")
            + f"): try {tip}."
        )
    if trouble_.divergences:
        n = trouble_.divergences
        what = f"{n} divergent transition{'s remain' if n > 1 else ' remains'}"
        other = "the other parameterization for the group term whose SD is smallest."
        if target < 0.99:
            parts.append(f"{what}: try target_accept=0.99, or {other}")
        else:
            parts.append(f"{what} at target_accept={target:g}: try {other}")
    return " ".join(parts)


def change_course(
    run: Runner,
    parameterization: Mapping[str, tuple[str, ...]],
    switchable: Sequence[str],
    target_accept: float,
    *,
    raise_target: bool,
    extend: Extender | None = None,
) -> tuple[xr.DataTree, dict[str, tuple[str, ...]]]:
    """Run, and when the run fails, run once more with the parameterisation its posterior
    suggests and (after divergences) a raised ``target_accept``; keep the better run.

    ``run(parameterization, target_accept)`` samples the model. Returns the kept run and the
    parameterisation it was sampled with; its posterior's ``attrs["sampling_notes"]`` says what
    was done. With ``extend`` (the same sampler, other chains), a kept run that mixes slowly
    (:func:`hierbayes.course_extend.slow_mixing`) gets as many chains more, and one whose chains
    are too short for R-hat (:func:`hierbayes.course_extend.longer_chains`) is sampled again
    with longer ones.
    """
    parameterization = {k: tuple(v) for k, v in parameterization.items()}
    idata = run(parameterization, target_accept)
    first = trouble(idata)
    if not first:
        if extend is not None:
            idata, found = _extended(idata, first, parameterization, target_accept, extend)
            if found:  # the chains together still fail: say what to try
                sampled = switchable_terms("auto", parameterization)
                posterior = idata["posterior"].to_dataset()
                suggested, _ = proposed_parameterization(posterior, parameterization, sampled)
                old = str(idata["posterior"].attrs.get(SAMPLING_NOTES, ""))
                advice = _advice(found, parameterization, suggested, target_accept, _length(idata))
                idata["posterior"].attrs[SAMPLING_NOTES] = "\n".join(
                    [n for n in [old] if n] + [advice]
                )
        return idata, parameterization
    new, reasons = proposed_parameterization(
        idata["posterior"].to_dataset(), parameterization, switchable
    )
    target = target_accept
    if first.divergences and raise_target and target_accept < RAISED_TARGET_ACCEPT:
        target = RAISED_TARGET_ACCEPT
    notes: list[str] = []
    kept, kept_trouble, used, kept_target = idata, first, parameterization, target_accept
    if reasons or target != target_accept:
        what = []
        if reasons:
            what.append("switched " + "; ".join(reasons))
        if target != target_accept:
            what.append(f"raised target_accept from {target_accept} to {target} (smaller steps)")
        again = run(new, target)
        second = trouble(again)
        _add_times(idata, again)
        if second.score() <= first.score():
            kept, kept_trouble, used, kept_target = again, second, new, target
            outcome = "its draws are the ones reported"
        else:
            outcome = "it did worse, so the first run's draws are the ones reported"
        notes.append(
            f"The first run failed ({_describe(first)}), so sampling was run again: "
            + ", and ".join(what)
            + f". The second run had {_describe(second)}; {outcome}."
        )
    old = str(kept["posterior"].attrs.get(SAMPLING_NOTES, ""))
    kept["posterior"].attrs[SAMPLING_NOTES] = "\n".join([n for n in [old] if n] + notes)
    notes = []
    if extend is not None:
        kept, kept_trouble = _extended(kept, kept_trouble, used, kept_target, extend)
    if kept_trouble:
        sampled = switchable_terms("auto", used)
        suggested, _ = proposed_parameterization(kept["posterior"].to_dataset(), used, sampled)
        notes.append(_advice(kept_trouble, used, suggested, kept_target, _length(kept)))
    old = str(kept["posterior"].attrs.get(SAMPLING_NOTES, ""))
    kept["posterior"].attrs[SAMPLING_NOTES] = "\n".join([n for n in [old] if n] + notes)
    return kept, used


def _length(idata: xr.DataTree) -> tuple[int, int]:
    """Draws and warm-up steps per chain of a run (1,000 warm-up steps where not recorded)."""
    posterior = idata["posterior"]
    return int(posterior.sizes["draw"]), int(posterior.attrs.get("tuning_steps", 1000))


def _extended(
    idata: xr.DataTree,
    found: Trouble,
    parameterization: Mapping[str, tuple[str, ...]],
    target: float,
    extend: Extender,
) -> tuple[xr.DataTree, Trouble]:
    """``idata`` extended while it mixes slowly (at most
    :data:`~hierbayes.course_extend.MAX_EXTENSIONS` times), and a note each time: sampled again
    with longer chains where its R-hat is that of chains too short (once;
    :func:`~hierbayes.course_extend.longer_chains`; the longer run replaces it), else with as
    many chains more (:func:`~hierbayes.course_extend.slow_mixing`). The chains of the first run
    are the ones requested (``attrs["requested_chains"]``: the ESS is judged against 100 of
    them). A run whose Laplace or quadrature check failed is not extended: it is run again with
    the effects sampled (:func:`hierbayes.laplace_fit.checked_laplace`)."""
    chains = idata["posterior"].sizes["chain"]
    if integration_check_failed(dict(idata["posterior"].attrs)):
        return idata, found
    lengthened = False  # chains are made longer once at most (then more chains, if any)
    for _ in range(MAX_EXTENSIONS):
        draws = idata["posterior"].sizes["draw"]
        factor = 0 if lengthened else longer_chains(idata, found.divergences)
        lengthened = lengthened or factor > 0
        if not factor and not slow_mixing(idata, found.divergences, requested=chains):
            break
        worst = max((rhat for rhat, _ in convergence_rows(idata)), default=float("nan"))
        before = min_bulk_ess(idata)
        if factor:
            sampled = idata["posterior"].sizes["chain"]
            longer = extend(parameterization, target, factor * draws)
            _add_times(longer, idata)
            old = [str(idata["posterior"].attrs.get(SAMPLING_NOTES, ""))]
            old.append(str(longer["posterior"].attrs.get(SAMPLING_NOTES, "")))
            idata = longer
            idata["posterior"].attrs[SAMPLING_NOTES] = "\n".join(n for n in old if n)
            what = (
                f"at {before / sampled:.0f} ESS a chain, its chains were too short for R-hat, "
                "which more chains would not bring down, so the model was sampled again with "
                f"{chains} chains of {factor * draws} draws, which replace them: they have "
            )
        else:
            idata = combine_runs(idata, extend(parameterization, target, draws))
            what = (
                f"so {chains} more chains were sampled: the "
                f"{idata['posterior'].sizes['chain']} chains together have "
            )
        for group in ("posterior", "sample_stats"):
            if group in idata.children:
                idata[group].attrs[REQUESTED_CHAINS] = chains
        found = trouble(idata)
        rhat = max(found.rhat.values(), default=None)
        note = (
            f"The run mixed slowly (R-hat up to {worst:.3f}, smallest bulk ESS {before:.0f}, no "
            f"divergent transitions)"
            + ("; " if factor else ", ")
            + what
            + (f"R-hat <= {RHAT_LIMIT}" if rhat is None else f"R-hat up to {rhat:.3f}")
            + f" and a smallest bulk ESS of {min_bulk_ess(idata):.0f} (wanted: "
            f"{ESS_PER_CHAIN_MIN * chains}, {ESS_PER_CHAIN_MIN} a requested chain)."
        )
        old_notes = str(idata["posterior"].attrs.get(SAMPLING_NOTES, ""))
        idata["posterior"].attrs[SAMPLING_NOTES] = "\n".join([n for n in [old_notes] if n] + [note])
    return idata, found


def _all_auto(requested: Any) -> bool:
    """Whether the parameterisation was left to ``"auto"`` (the default) for every term."""
    if isinstance(requested, str):
        return requested == "auto"
    if isinstance(requested, Mapping):
        return all(v == "auto" for v in requested.values())
    return False


def _add_times(first: xr.DataTree, second: xr.DataTree) -> None:
    """Both runs' sampling time on each (whichever is kept reports what the fit cost)."""
    for group in ("posterior", "sample_stats"):
        if group in first.children and group in second.children:
            total = sum(float(t[group].attrs.get("sampling_time", 0.0)) for t in (first, second))
            first[group].attrs["sampling_time"] = second[group].attrs["sampling_time"] = total


def _describe(t: Trouble) -> str:
    parts = [f"{t.divergences} divergent transition{'' if t.divergences == 1 else 's'}"]
    if t.rhat:
        worst, value = next(iter(t.rhat.items()))
        parts.append(f"R-hat up to {value:.3f} ({worst})")
    else:
        parts.append(f"R-hat <= {RHAT_LIMIT}")
    return ", ".join(parts)


def sample_on_course(
    model: Any, density: Any, raise_target: bool, settings: Mapping[str, Any]
) -> tuple[xr.DataTree, Any]:
    """:func:`change_course` for :meth:`hierbayes.Model.fit` on the compiled log-density.

    Returns the posterior and the model it was sampled with: ``model`` itself, or a shallow copy
    whose ``parameterization`` is the one the kept run used.
    """
    chosen = {k: tuple(v) for k, v in model.parameterization.items()}
    requested = getattr(model, "_requested_parameterization", chosen)
    adaptation = mass_matrix_adaptation(model.design)
    density = dataclasses.replace(density, adaptation=adaptation)
    options = {k: v for k, v in settings.items() if k != "target_accept"}

    def sampler(seed: Any, draws: int | None = None) -> Runner:
        def run(parameterization: Mapping[str, tuple[str, ...]], target: float) -> xr.DataTree:
            compiled = density
            if dict(parameterization) != chosen:
                layout = make_layout(model.design, model.prior_values, parameterization)
                compiled = dataclasses.replace(compile_density(layout), adaptation=adaptation)
            length = {} if draws is None else {"draws": draws}
            return sample_compiled(
                compiled,
                raise_target=False,
                target_accept=target,
                **{**options, "random_seed": seed, **length},
            )

        return run

    seed = options.get("random_seed")
    run = sampler(seed)
    extensions: list[int] = []

    def more(
        parameterization: Mapping[str, tuple[str, ...]], target: float, draws: int
    ) -> xr.DataTree:
        extensions.append(1)  # each set of extra chains with a seed of its own
        return sampler(extension_seed(seed, len(extensions)), draws)(parameterization, target)

    # only a default run gets more chains (README): target_accept and parameterisation left to
    # hierbayes; a choice of the user's is kept as it is, as are its chains
    default = raise_target and _all_auto(requested)
    idata, used = change_course(
        run,
        chosen,
        switchable_terms(requested, chosen),
        float(settings["target_accept"]),
        raise_target=raise_target,
        extend=more if default else None,
    )
    if used == chosen:
        return idata, model
    fitted = copy.copy(model)
    fitted.parameterization = used
    fitted._density = None
    return idata, fitted
