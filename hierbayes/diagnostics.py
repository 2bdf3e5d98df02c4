"""Convergence diagnostics that speak the model's language.

After sampling we check R-hat, bulk and tail ESS and divergences for every population-level
parameter (fixed effects, group SDs and correlations, residual SD) and, summarised, for the group
effects, and say which parameter is in trouble, what that likely means and what to try.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.conditional import CONDITIONAL_DRAWS
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.errors import ConvergenceWarning

__all__ = ["Diagnostics", "check_convergence", "describe_parameter"]

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


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
        Convergence problems (also emitted as :class:`~hierbayes.errors.ConvergenceWarning`).
    notes : tuple of str
        Observations that are not failures, e.g. a group SD piling up at zero.
    """

    table: pd.DataFrame
    divergences: int
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

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
    kind, _, block = var.partition("|")
    factor = re.sub(r"\.\d+$", "", block)  # 'g.2' is the second group term on 'g'; keep 'a.b'
    if kind == "sd":
        return f"the SD of {values[0]} across {factor}"
    if kind == "cor":
        return f"the correlation of {values[0]} and {values[1]} across {factor}"
    if kind == "u":
        return f"the {factor} effects"
    return var


def _population_vars(posterior: xr.Dataset) -> list[str]:
    return [v for v in posterior.data_vars if v in ("b", "sigma") or v.startswith(("sd|", "cor|"))]


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
    chains = posterior.sizes["chain"]
    records, messages, notes = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for var, coords, da in _rows(posterior):
            rhat = float(az.rhat(da))
            bulk = float(az.ess(da))
            tail = float(az.ess(da, method="tail"))
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
                q10, q50 = np.quantile(da.values, [0.1, 0.5])
                if q50 > 0 and q10 / q50 < 0.3:
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
            if str(label).startswith(("sd|", "cor|")):
                advice += (
                    ", or switch the parameterization of its group term (parameterization="
                    "'centered', 'noncentered', or 'marginal' for a gaussian model)"
                )
            messages.append(
                f"R-hat is {row['r_hat']:.3f} (> {RHAT_MAX}) for {row['meaning']} ({label}): the "
                f"chains disagree. {advice}."
            )
        min_ess = ESS_PER_CHAIN_MIN * chains
        low = table[(table["ess_bulk"] < min_ess) | (table["ess_tail"] < min_ess)]
        for label, row in low.iterrows():
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
            folded = abs(draws - draws.median(("chain", "draw")))
            split = np.fmax(az.rhat(draws, method="split"), az.rhat(folded, method="split"))
            flagged = draws.where(split > RHAT_MAX, drop=True)
            worst = float(az.rhat(flagged).max()) if flagged.size else float(split.max())
        if worst > RHAT_MAX:
            messages.append(
                f"R-hat reaches {worst:.3f} among {describe_parameter(var, {})} ({var}). Run "
                "longer or change the group term's parameterization."
            )
    divergences = 0
    if "sample_stats" in idata.children and "diverging" in idata["sample_stats"]:
        divergences = int(idata["sample_stats"]["diverging"].sum())
    if divergences:
        total = posterior.sizes["chain"] * posterior.sizes["draw"]
        messages.append(
            f"{divergences} of {total} draws ended in a divergent transition: the sampler met "
            "curvature it could not follow, usually a funnel between a group SD and its group "
            "effects. Raise target_accept (e.g. 0.95), or switch the parameterization of the "
            "group term whose SD is smallest ('noncentered' for small groups, 'centered' for "
            "large ones)."
        )
    # what sampling did beyond the plain run (a chain run again, ...), never silently
    notes.extend(str(posterior.attrs.get(SAMPLING_NOTES, "")).splitlines())
    diagnostics = Diagnostics(table, divergences, tuple(messages), tuple(notes))
    if emit:
        for message in messages:
            warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return diagnostics
