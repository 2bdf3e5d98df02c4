"""Convergence diagnostics that speak the model's language.

After sampling we check R-hat, bulk and tail ESS and divergences for every population-level
parameter (fixed effects, group SDs and correlations, residual SD) and, summarised, for the group
effects, and say which parameter is in trouble, what that likely means and what to try.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import arviz_stats as az
import pandas as pd
import xarray as xr

from hierbayes.conditional import CONDITIONAL_DRAWS
from hierbayes.convergence_stats import row_statistic
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.errors import ConvergenceWarning
from hierbayes.rhat_screen import flagged_rhat, screen_rhat
from hierbayes.sd_at_zero import piles_up_at_zero

__all__ = [
    "REQUESTED_CHAINS",
    "Diagnostics",
    "Problem",
    "check_convergence",
    "describe_parameter",
    "requested_chains",
]

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
# chains the user asked for, when more were sampled (hierbayes.course_extend): the ESS is judged
# against 100 a requested chain, so that added chains do not raise the bar they are meant to meet
REQUESTED_CHAINS = "requested_chains"


def requested_chains(posterior: xr.Dataset | xr.DataTree) -> int:
    """The chains asked for: ``attrs["requested_chains"]``, else (fits saved before it, runs
    not extended) the chains in the posterior.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> post = xr.Dataset({"mu": (("chain", "draw"), np.zeros((6, 5)))})
    >>> requested_chains(post)
    6
    >>> post.attrs["requested_chains"] = 2
    >>> requested_chains(post)
    2
    """
    return int(posterior.attrs.get(REQUESTED_CHAINS, posterior.sizes["chain"]))


@dataclass(frozen=True)
class Problem:
    """One convergence problem: a row of the warning's table.

    Attributes
    ----------
    parameter : str
        The parameter's label (``sd|school[cses]``) or ``sampler`` for divergences.
    meaning : str
        The parameter in words (``the SD of cses across school``).
    problem : str
        What is wrong, e.g. ``R-hat > 1.01``.
    value : str
        The offending value, formatted.
    advice : str
        What to try, in a few words.
    """

    parameter: str
    meaning: str
    problem: str
    value: str
    advice: str


@dataclass(frozen=True)
class Diagnostics:
    """Result of the post-sampling checks.

    Attributes
    ----------
    table : DataFrame
        One row per population-level parameter: ``r_hat``, ``ess_bulk``, ``ess_tail``.
    divergences : int
        Divergent transitions after tuning.
    warnings : tuple of str
        Convergence problems in full sentences (summarised in one
        :class:`~hierbayes.errors.ConvergenceWarning` per fit).
    notes : tuple of str
        Observations that are not failures, e.g. a group SD piling up at zero.
    problems : tuple of Problem
        The problems of ``warnings`` as table rows: parameter, problem, value, what to try.
    """

    table: pd.DataFrame
    divergences: int
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether no convergence warning was raised."""
        return not self.warnings

    @property
    def max_rhat(self) -> float:
        """Largest R-hat among the checked parameters."""
        return float(self.table["r_hat"].max()) if len(self.table) else float("nan")

    @property
    def min_ess_bulk(self) -> float:
        """Smallest bulk ESS among the checked parameters."""
        return float(self.table["ess_bulk"].min()) if len(self.table) else float("nan")


def describe_parameter(var: str, coords: dict[str, str]) -> str:
    """Plain-language name of a parameter.

    Examples
    --------
    >>> describe_parameter("sd|school", {"school__term": "cses"})
    'the SD of cses across school'
    >>> describe_parameter("b", {"term": "Intercept"})
    'the population Intercept'
    >>> describe_parameter("sd|sigma_school", {"sigma_school__term": "Intercept"})
    'the SD of sigma_Intercept across school'
    """
    values = list(coords.values())
    if var == "b":
        term = values[0]
        return (
            "the population Intercept"
            if term == "Intercept"
            else f"the population effect of {term}"
        )
    if var == "sigma":
        return "the residual SD"
    if var == "cutpoints":  # an ordinal model's
        return f"the cut-point {values[0]}"
    if var in _DPAR_B:  # sigma="~ ...", shape="~ ...": a coefficient of log σ, log φ
        return f"{values[0]} (log {_DPAR_WHAT[var[2:]]})"
    kind, _, block = var.partition("|")
    dpar = next((d for d in _DPAR_WHAT if block.startswith(f"{d}_")), None)
    on_sigma = dpar is not None  # a group term of log σ: brms's sd(sigma_x)
    if dpar is not None:
        block, values = block[len(dpar) + 1 :], [f"{dpar}_{v}" for v in values]
    factor = re.sub(r"\.\d+$", "", block)  # 'g.2' is the second group term on 'g'; keep 'a.b'
    if kind == "sd":
        return f"the SD of {values[0]} across {factor}"
    if kind == "cor":
        return f"the correlation of {values[0]} and {values[1]} across {factor}"
    if kind == "u":
        return f"the {factor} effects" + (f" on log {dpar}" if on_sigma else "")
    return var


# distributional parameters with a formula (sigma=, shape=, phi=): their coefficients b_<name>
_DPAR_WHAT = {"sigma": "residual SD", "shape": "shape", "phi": "precision"}
_DPAR_B = tuple(f"b_{name}" for name in _DPAR_WHAT)


def _population_vars(posterior: xr.Dataset) -> list[str]:
    population = ("b", "sigma", "cutpoints", *_DPAR_B)
    return [v for v in posterior.data_vars if v in population or v.startswith(("sd|", "cor|"))]


def _rows(posterior: xr.Dataset) -> list[tuple[str, dict[str, str], xr.DataArray]]:
    rows = []
    for var in _population_vars(posterior):
        da = posterior[var]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            rows.append((var, {}, da))
            continue
        stacked = da.stack(__param__=extra)
        for i in range(stacked.sizes["__param__"]):
            sel = stacked.isel(__param__=i)
            coords = {d: str(sel[d].item()) for d in extra}
            labels = list(coords.values())
            if var.startswith("cor|"):
                terms = [str(t) for t in posterior[var][extra[0]].values]
                if terms.index(labels[0]) >= terms.index(labels[1]):
                    continue  # lower triangle and unit diagonal carry no information
            rows.append((var, coords, sel))
    return rows


def check_convergence(idata: xr.DataTree, *, emit: bool = True) -> Diagnostics:
    """Check R-hat, ESS and divergences; warn in the model's words.

    Parameters
    ----------
    idata : DataTree
        Result of sampling.
    emit : bool
        Emit each problem as a :class:`~hierbayes.errors.ConvergenceWarning`.
    """
    posterior = idata["posterior"].to_dataset()
    records, messages, notes = [], [], []
    problems: list[Problem] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for var, coords, da in _rows(posterior):
            # each variable's statistics once, shared with the checks of hierbayes.course
            rhat = row_statistic(posterior, var, coords, "rhat")
            bulk = row_statistic(posterior, var, coords, "ess_bulk")
            tail = row_statistic(posterior, var, coords, "ess_tail")
            label = var + ("[" + ", ".join(coords.values()) + "]" if coords else "")
            records.append(
                {
                    "parameter": label,
                    "meaning": describe_parameter(var, coords),
                    "r_hat": rhat,
                    "ess_bulk": bulk,
                    "ess_tail": tail,
                }
            )
            if var.startswith("sd|"):
                if piles_up_at_zero(da.values):  # density at 0 near the mode's
                    meaning = describe_parameter(var, coords)
                    notes.append(
                        f"{meaning[0].upper()}{meaning[1:]} piles up at zero: the data "
                        "can hardly tell it apart from 0. If that is plausible, consider dropping "
                        "this varying coefficient."
                    )
    table = pd.DataFrame.from_records(records)
    if len(table):
        table = table.set_index("parameter")
        bad_rhat = table[table["r_hat"] > RHAT_MAX]
        for label, row in bad_rhat.iterrows():
            advice = "Run longer (more tune and draws)"
            short = "more tune and draws"
            if str(label).startswith(("sd|", "cor|")):
                advice += (
                    ", or switch the parameterization of its group term (parameterization="
                    "'centered', 'noncentered', or 'marginal' for a gaussian model)"
                )
                short += "; or another parameterization"
            problems.append(
                Problem(
                    str(label), row["meaning"], f"R-hat > {RHAT_MAX}", f"{row['r_hat']:.3f}", short
                )
            )
            messages.append(
                f"R-hat is {row['r_hat']:.3f} (> {RHAT_MAX}) for {row['meaning']} ({label}): the "
                f"chains disagree. {advice}."
            )
        min_ess = ESS_PER_CHAIN_MIN * requested_chains(posterior)
        low = table[(table["ess_bulk"] < min_ess) | (table["ess_tail"] < min_ess)]
        for label, row in low.iterrows():
            value = f"bulk {row['ess_bulk']:.0f}, tail {row['ess_tail']:.0f}"
            problems.append(
                Problem(str(label), row["meaning"], f"ESS < {min_ess}", value, "more draws")
            )
            messages.append(
                f"Effective sample size is low for {row['meaning']} ({label}): bulk "
                f"{row['ess_bulk']:.0f}, tail {row['ess_tail']:.0f} (want >= {min_ess}). Its "
                "mean and intervals are imprecise; draw more."
            )
    # Integrated-out effects are exact conditional draws given the parameters checked above, so
    # their R-hat adds nothing (and costs seconds with thousands of groups).
    u_vars = [
        v
        for v in posterior.data_vars
        if v.startswith("u|") and posterior[v].attrs.get("draws") != CONDITIONAL_DRAWS
    ]
    for var in u_vars:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # screen thousands of effects with the plain split R-hat of the draws (location) and
            # of their distance from the median (spread), both vectorised, then take the
            # rank-normalised R-hat of those it flags, as for the population-level parameters
            draws = posterior[var]
            split = screen_rhat(draws)  # both split R-hats, all effects at once
            worst = flagged_rhat(draws, split, RHAT_MAX, az.rhat)  # of those flagged
        if worst > RHAT_MAX:
            problems.append(
                Problem(
                    var,
                    describe_parameter(var, {}),
                    f"R-hat > {RHAT_MAX}",
                    f"{worst:.3f}",
                    "more tune and draws; or another parameterization",
                )
            )
            messages.append(
                f"R-hat reaches {worst:.3f} among {describe_parameter(var, {})} ({var}). Run "
                "longer or change the group term's parameterization."
            )
    divergences = 0
    if "sample_stats" in idata.children and "diverging" in idata["sample_stats"]:
        divergences = int(idata["sample_stats"]["diverging"].sum())
    if divergences:
        total = posterior.sizes["chain"] * posterior.sizes["draw"]
        problems.append(
            Problem(
                "sampler",
                "the NUTS trajectories",
                "divergences",
                f"{divergences} of {total}",
                "target_accept=0.95; or another parameterization",
            )
        )
        messages.append(
            f"{divergences} of {total} draws ended in a divergent transition: the sampler met "
            "curvature it could not follow, usually a funnel between a group SD and its group "
            "effects. Raise target_accept (e.g. 0.95), or switch the parameterization of the "
            "group term whose SD is smallest ('noncentered' for small groups, 'centered' for "
            "large ones)."
        )
    # what sampling did beyond the plain run (a chain run again, ...), never silently
    notes.extend(str(posterior.attrs.get(SAMPLING_NOTES, "")).splitlines())
    diagnostics = Diagnostics(table, divergences, tuple(messages), tuple(notes), tuple(problems))
    if emit and problems:
        warn_convergence(convergence_message(problems))
    return diagnostics


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
MAX_ROWS = 12


def problem_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain-text table, columns padded to their widest cell (at most ``MAX_ROWS`` rows).

    Examples
    --------
    >>> print(problem_table([("b[x]", "R-hat > 1.01", "1.100")], ("parameter", "problem", "value")))
      parameter  problem       value
      b[x]       R-hat > 1.01  1.100
    """
    shown = [tuple(header), *[tuple(r) for r in rows[:MAX_ROWS]]]
    widths = [max(len(r[i]) for r in shown) for i in range(len(header))]
    lines = [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in shown
    ]
    if len(rows) > MAX_ROWS:
        lines.append(f"  ... and {len(rows) - MAX_ROWS} more (see fit.diagnostics.warnings)")
    return "\n".join(lines)


def convergence_message(problems: Sequence[Problem]) -> str:
    """The text of the one warning a fit with convergence problems emits.

    Examples
    --------
    >>> problem = Problem("sigma", "the residual SD", "R-hat > 1.01", "1.020", "more draws")
    >>> print(convergence_message([problem]))
    1 convergence problem: the draws below cannot be trusted yet.
      parameter  meaning          problem       value  what to try
      sigma      the residual SD  R-hat > 1.01  1.020  more draws
    Details: fit.diagnostics.warnings; the summary() lists them in words.
    """
    n = len(problems)
    rows = [(p.parameter, p.meaning, p.problem, p.value, p.advice) for p in problems]
    return (
        f"{n} convergence problem{'s' if n > 1 else ''}: the draws below cannot be trusted yet.\n"
        + problem_table(rows, ("parameter", "meaning", "problem", "value", "what to try"))
        + "\nDetails: fit.diagnostics.warnings; the summary() lists them in words."
    )


def warn_convergence(message: str) -> None:
    """Emit one :class:`~hierbayes.errors.ConvergenceWarning` located at the user's line.

    Every frame inside the hierbayes package is skipped, so the warning names the line of the
    notebook cell or script that called ``fit()`` (or ``kfold()``), not hierbayes's own code.
    """
    warnings.warn(message, ConvergenceWarning, skip_file_prefixes=(_PACKAGE_DIR,))


def add_model_notes(posterior: xr.Dataset | xr.DataTree, notes: Sequence[str]) -> None:
    """Put notes on the model (a predictor far from 0, a prior that pulls a shape) into the
    posterior's ``attrs["sampling_notes"]`` *before* what sampling recorded, so that a cause is
    read before the remedy (more chains sampled, "try more draws").

    Examples
    --------
    >>> post = xr.Dataset(attrs={"sampling_notes": "So 4 more chains were sampled."})
    >>> add_model_notes(post, ["Centre age."])
    >>> post.attrs["sampling_notes"].splitlines()
    ['Centre age.', 'So 4 more chains were sampled.']
    """
    old = str(posterior.attrs.get(SAMPLING_NOTES, ""))
    posterior.attrs[SAMPLING_NOTES] = "\n".join([n for n in (*notes, old) if n])
