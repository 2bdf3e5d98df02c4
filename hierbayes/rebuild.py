"""What it takes to build a model again: on other rows (K-fold) or from a saved file.

A :class:`Recipe` holds everything :class:`hierbayes.Model` was given except the data: formula,
family, trials column, level-2 columns (declared as columns of the data, which
:attr:`hierbayes.design.Design.data` carries), resolved priors and resolved parameterisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from hierbayes.errors import DataError
from hierbayes.priors import Prior

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["Recipe"]


@dataclass(frozen=True)
class Recipe:
    """The arguments of :class:`hierbayes.Model`, less the data.

    Attributes
    ----------
    formula : str
    family : str
    link : str or None
        The family's link (``None``: its default).
    trials : str or None
        Trials column given as ``trials=`` (``None`` when the formula names it).
    level2 : dict
        Grouping factor -> its level-2 columns that the model uses (columns of the data).
    level2_columns : dict
        Grouping factor -> every level-2 column of the original model (as
        :attr:`hierbayes.design.Design.level2_columns`).
    priors : dict
        Every resolved prior by name.
    user_priors : tuple of str
        Names of the priors the user set (the others are data-scaled defaults).
    parameterization : dict
        Group term -> centred/non-centred per coefficient.
    offset : str or None
        Offset column given as ``offset=`` (offsets in the formula are part of ``formula``).
    weights : str or None
        Column of likelihood weights.
    missing : str
        ``"raise"`` or ``"drop"``.
    sigma, shape, phi : str or None
        Formula of the log residual SD (``sigma="~ ..."``) or of the log dispersion
        (``shape="~ ..."``, ``phi="~ ..."``): the family's distributional parameter.
    """

    formula: str
    family: str
    trials: str | None
    level2: dict[str, tuple[str, ...]]
    level2_columns: dict[str, tuple[str, ...]]
    priors: dict[str, Prior]
    user_priors: tuple[str, ...]
    parameterization: dict[str, tuple[str, ...]] = field(default_factory=dict)
    offset: str | None = None
    weights: str | None = None
    missing: str = "raise"
    link: str | None = None
    sigma: str | None = None
    shape: str | None = None
    phi: str | None = None

    @classmethod
    def of(cls, model: Model) -> Recipe:
        """The recipe of ``model``."""
        design = model.design
        if design.data is None:
            raise DataError("This model's design does not keep its data; it cannot be rebuilt.")
        formula = model.spec.formula or str(model.spec)
        trials = design.spec.fixed.trials if model.spec.fixed.trials is None else None
        used = set(design.data.columns)
        level2 = {
            factor: tuple(c for c in columns if c in used)
            for factor, columns in design.level2_columns.items()
        }
        table = model.priors
        user = tuple(str(n) for n in table.index[table["source"] == "user"])
        return cls(
            formula=formula,
            family=design.family.name,
            trials=trials,
            level2={f: c for f, c in level2.items() if c},
            level2_columns=dict(design.level2_columns),
            priors=dict(model.prior_values),
            user_priors=user,
            parameterization={k: tuple(v) for k, v in model.parameterization.items()},
            offset=_offset_argument(model),
            weights=model.weights_column,
            missing=model.missing,
            link=design.family.link,
            **_dpar_argument(model),
        )

    def build(self, data: pd.DataFrame, *, all_priors: bool = False) -> Model:
        """A :class:`hierbayes.Model` of this recipe on ``data``.

        Parameters
        ----------
        data : DataFrame
            Rows with the columns of :attr:`hierbayes.design.Design.data`.
        all_priors : bool
            Fix every prior to this recipe's value (the same model on other rows, as K-fold
            needs), instead of recomputing the data-scaled defaults from ``data``.
        """
        from hierbayes.model import Model

        names = self.priors if all_priors else self.user_priors
        priors: dict[str, Any] = {name: self.priors[name] for name in names}
        return Model(
            self.formula,
            data,
            level2={f: list(c) for f, c in self.level2.items()} or None,
            family=self.family,
            priors=priors,
            parameterization={k: list(v) for k, v in self.parameterization.items()},
            trials=self.trials,
            offset=self.offset,
            weights=self.weights,
            missing=self.missing,
            link=self.link,
            sigma=self.sigma,
            shape=self.shape,
            phi=self.phi,
        )


def _dpar_argument(model: Model) -> dict[str, str]:
    """``{"sigma": "~ ..."}`` (or ``shape``, ``phi``): the keyword of ``model``'s formula of a
    distributional parameter; empty without one."""
    spec = model.sigma_spec
    return {} if spec is None else {str(spec.fixed.response): str(spec.formula)}


def _offset_argument(model: Model) -> str | None:
    """The ``offset=`` column of ``model`` (the design's offsets beyond the formula's)."""
    extra = model.design.spec.fixed.offsets[len(model.spec.fixed.offsets) :]
    return extra[0] if extra else None
