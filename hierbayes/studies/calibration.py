"""The result of simulation-based calibration: ranks, a uniformity test per parameter, a plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from arviz_stats.base import array_stats
from scipy import stats

from hierbayes.studies.executor import ReplicateFailure, failures_table

__all__ = ["SBC", "uniformity"]


def uniformity(pit: np.ndarray, bins: int | None = None) -> dict[str, float]:
    """Tests that PIT values are uniform on (0, 1).

    ``p_value``: the pointwise order test with Cauchy combination of arviz-stats (``pot_c``,
    Tesso & Vehtari), sensitive to local departures anywhere in the ECDF. ``chi2_p_value``:
    Pearson's chi-square on ``bins`` equal bins (default: at least 5 expected per bin, at most
    20 bins).

    Examples
    --------
    >>> u = np.random.default_rng(1).uniform(size=200)
    >>> uniformity(u)["p_value"] > 0.01, uniformity(u**2)["p_value"] < 1e-6
    (True, True)
    """
    pit = np.asarray(pit, dtype=float)
    n = pit.size
    if bins is None:
        bins = int(min(20, max(2, n // 5)))
    counts = np.histogram(np.clip(pit, 0, 1), bins=bins, range=(0, 1))[0]
    p_pot = float(np.asarray(array_stats.uniformity_test(pit, method="pot_c")[0]))
    return {
        "p_value": p_pot,
        "chi2": float(stats.chisquare(counts).statistic),
        "chi2_p_value": float(stats.chisquare(counts).pvalue),
        "bins": bins,
    }


def _no_test() -> dict[str, float]:
    return {"p_value": np.nan, "chi2": np.nan, "chi2_p_value": np.nan, "bins": 0}


def _listed(values: list[int], most: int = 10) -> str:
    return ", ".join(str(v) for v in values[:most]) + (", ..." if len(values) > most else "")


@dataclass(frozen=True)
class SBC:
    """Result of :func:`hierbayes.sbc`.

    Attributes
    ----------
    ranks : DataFrame
        One row per replicate and population-level parameter: ``replicate``, ``parameter``,
        ``true`` (drawn from the prior), ``rank`` among ``n_ranked`` thinned posterior draws,
        ``pit`` (randomised rank / (n_ranked + 1)), posterior ``mean`` and ``sd``, ``thin``,
        and the refit's ``divergences``, largest population-level ``max_rhat``, smallest
        ``min_ess_bulk`` and first convergence ``warning``.
    failures : list of ReplicateFailure
        Replicates that raised (which one and why).
    n : int
        Replicates asked for.
    model : str
        The model checked.
    truths : DataFrame
        The true values, one row per replicate (failed ones included).
    rhat_max : float
        Refits with divergences or an R-hat above this did not converge
        (:attr:`nonconverged`): the test and the plot leave their ranks out.
    """

    ranks: pd.DataFrame
    failures: list[ReplicateFailure] = field(default_factory=list)
    n: int = 0
    model: str = ""
    truths: pd.DataFrame = field(default_factory=pd.DataFrame)
    rhat_max: float = 1.1

    @property
    def nonconverged(self) -> pd.DataFrame:
        """Replicates whose refit did not converge: ``replicate``, ``divergences``,
        ``max_rhat``, ``min_ess_bulk``, ``warning`` (one row each).

        Examples
        --------
        >>> ranks = pd.DataFrame({"replicate": [0, 0, 1, 1], "parameter": ["a", "b"] * 2,
        ...     "pit": 0.5, "divergences": [0, 0, 3, 3], "max_rhat": [1.0, 1.0, 1.2, 1.2],
        ...     "min_ess_bulk": [300.0, 300.0, 9.0, 9.0], "warning": ""})
        >>> SBC(ranks).nonconverged["replicate"].tolist()
        [1]
        """
        columns = ["replicate", "divergences", "max_rhat", "min_ess_bulk", "warning"]
        if not len(self.ranks):
            return pd.DataFrame(columns=columns)
        bad = self.ranks[~self._converged()]
        return bad[columns].drop_duplicates("replicate").reset_index(drop=True)

    def _converged(self) -> pd.Series:
        """Per row of :attr:`ranks`: whether its replicate's refit converged."""
        ranks = self.ranks
        divergent = ranks["divergences"] > 0 if "divergences" in ranks else False
        rhat = ranks["max_rhat"] > self.rhat_max if "max_rhat" in ranks else False
        return ~(divergent | rhat) if len(ranks) else pd.Series(dtype=bool)

    def converged_ranks(self) -> pd.DataFrame:
        """The rows of :attr:`ranks` whose refit converged (what the test and plot use)."""
        return self.ranks[self._converged()] if len(self.ranks) else self.ranks

    @property
    def parameters(self) -> list[str]:
        """The ranked parameters."""
        return list(dict.fromkeys(self.ranks["parameter"])) if len(self.ranks) else []

    def test(self, alpha: float = 0.05, *, include_nonconverged: bool = False) -> pd.DataFrame:
        """Uniformity of each parameter's ranks among the converged refits.

        Parameters
        ----------
        alpha : float
            Level of the test (Bonferroni over parameters).
        include_nonconverged : bool
            Test the ranks of every refit, converged or not.

        Returns
        -------
        DataFrame
            One row per parameter: ``n`` (replicates tested), ``left_out`` (non-converged
            replicates left out), ``p_value`` (pot_c test), ``chi2``,
            ``chi2_p_value``, ``mean_z`` (mean of (posterior mean - true) / posterior sd: near
            0 for calibrated, roughly symmetric posteriors; an SD whose true values lie near 0
            has it positive even then), ``contraction`` (1 - mean posterior variance / prior
            variance: how much the data teach), ``calibrated`` (``p_value`` above ``alpha``
            divided by the number of parameters, Bonferroni), ``divergent_replicates`` (refits
            with divergences, tested or not).
        """
        rows = []
        names = self.parameters
        used = self.ranks if include_nonconverged else self.converged_ranks()
        for name in names:
            part = used[used["parameter"] == name]
            left_out = int((self.ranks["parameter"] == name).sum()) - len(part)
            result = uniformity(part["pit"].to_numpy()) if len(part) else _no_test()
            prior_var = float(np.var(self.truths[name], ddof=1)) if name in self.truths else np.nan
            rows.append(
                {
                    "parameter": name,
                    "n": len(part),
                    "left_out": left_out,
                    **{k: v for k, v in result.items() if k != "bins"},
                    "mean_z": float(((part["mean"] - part["true"]) / part["sd"]).mean()),
                    "contraction": 1 - float((part["sd"] ** 2).mean()) / prior_var,
                    "calibrated": result["p_value"] > alpha / max(len(names), 1),
                    "divergent_replicates": int(
                        ((self.ranks["parameter"] == name) & (self.ranks["divergences"] > 0)).sum()
                    ),
                }
            )
        return pd.DataFrame(rows).set_index("parameter")

    @property
    def failures_table(self) -> pd.DataFrame:
        """Failed replicates: ``replicate``, ``error``, ``message``."""
        return failures_table(self.failures)

    def plot(self, *, prob: float = 0.95, ncols: int | None = None) -> tuple[Any, Any]:
        """ECDF difference of each parameter's PIT values with simultaneous ``prob`` bands
        (Säilynoja et al. 2022); see :func:`hierbayes.plots.calibration.plot_sbc`."""
        from hierbayes.plots.calibration import plot_sbc

        left_out = len(self.nonconverged)
        note = (
            f"{left_out} of {self.n} replicates left out: refit did not converge"
            if left_out
            else ""
        )
        return plot_sbc(self.converged_ranks(), prob=prob, ncols=ncols, note=note)

    def __str__(self) -> str:
        table = self.test()
        worst = table["p_value"].idxmin() if len(table) else None
        unconverged = self.nonconverged["replicate"].tolist()
        lines = [
            f"SBC of {self.model}: {self.n} replicates, {len(self.failures)} failed, "
            f"{len(unconverged)} did not converge"
            + (
                f" (replicates {_listed(unconverged)}; left out of the test)."
                if unconverged
                else "."
            )
        ]
        if worst is not None:
            verdict = "uniform" if table["calibrated"].all() else "NOT uniform"
            lines.append(
                f"Ranks of {len(table)} parameters {verdict} (smallest p-value "
                f"{table.loc[worst, 'p_value']:.3g}, {worst})."
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<p>{self!s}</p>" + self.test()._repr_html_()
