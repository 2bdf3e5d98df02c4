"""The result of fitting: the posterior ``DataTree`` plus the model it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from hierbayes import summaries
from hierbayes.diagnostics import Diagnostics
from hierbayes.summaries.stats import DEFAULT_PROB

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.model import Model
    from hierbayes.spec import ModelSpec

__all__ = ["Fit"]


@dataclass(frozen=True)
class Fit:
    """An immutable fitted model. Summaries are functions of a fit; these methods forward to them.

    Attributes
    ----------
    idata : xarray.DataTree
        Posterior draws (``b``, ``sd|<term>``, ``cor|<term>``, ``u|<term>``, ``sigma``), sample
        stats, observed data and the pointwise log-likelihood.
    model : Model
        The model that was fitted (spec, design with its encoding state, priors).
    diagnostics : Diagnostics
        Post-sampling convergence checks.
    sampler : str
        The NUTS implementation used.
    """

    idata: xr.DataTree
    model: Model
    diagnostics: Diagnostics
    sampler: str

    @property
    def spec(self) -> ModelSpec:
        """The model specification."""
        return self.model.spec

    @property
    def design(self) -> Design:
        """The design (arrays, labels and encoding state) the model was fitted to."""
        return self.model.design

    def fixef(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Population-level effects; see :func:`hierbayes.summaries.fixef`."""
        return summaries.fixef(self, prob=prob)

    def ranef(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Group deviations; see :func:`hierbayes.summaries.ranef`."""
        return summaries.ranef(self, prob=prob)

    def coef(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Each group's coefficients; see :func:`hierbayes.summaries.coef`."""
        return summaries.coef(self, prob=prob)

    def varcorr(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """SDs, correlations and residual SD; see :func:`hierbayes.summaries.varcorr`."""
        return summaries.varcorr(self, prob=prob)

    def summary(self, *, prob: float = DEFAULT_PROB) -> summaries.Summary:
        """lme4-like summary; see :func:`hierbayes.summaries.summary`."""
        return summaries.summary(self, prob=prob)

    def __repr__(self) -> str:
        posterior = self.idata["posterior"]
        return (
            f"<hierbayes.Fit {self.spec.formula or self.spec}: {posterior.sizes['chain']} chains x "
            f"{posterior.sizes['draw']} draws>"
        )
