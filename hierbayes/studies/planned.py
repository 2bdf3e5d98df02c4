"""A planned two-level design with assumed parameter values, and data simulated from it.

:class:`PlannedDesign` holds what a power analysis assumes (as R's simr does for lme4): the
formula, the fixed effects, the SDs and correlations of the group effects, sigma, and how the
predictors are distributed. :meth:`PlannedDesign.simulate` draws one data set of a given size.
Predictor distributions are given per column as

- a frozen scipy distribution (anything with ``rvs(size=, random_state=)``), e.g.
  ``scipy.stats.norm(0, 1)``;
- a list of category labels, assigned in equal shares (as balanced as the count allows) in a
  random order, e.g. ``["Public", "Catholic"]``;
- a function ``f(rng, size) -> array``.

Level-1 predictors get one value per row, level-2 predictors one value per group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.design import Design, make_design
from hierbayes.errors import ModelSpecError
from hierbayes.families import get_family
from hierbayes.predict.response import sample_response
from hierbayes.spec import parse_formula

__all__ = ["PlannedDesign"]

Distribution = Any  # frozen scipy distribution, list of labels, or f(rng, size)


def _draw(spec: Distribution, rng: np.random.Generator, size: int, name: str) -> np.ndarray:
    if hasattr(spec, "rvs"):
        return np.asarray(spec.rvs(size=size, random_state=rng))
    if callable(spec):
        values = np.asarray(spec(rng, size))
        if values.shape != (size,):
            raise ModelSpecError(
                f"The function for predictor '{name}' returned shape {values.shape}; it must "
                f"return {size} values for f(rng, {size})."
            )
        return values
    if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
        return rng.permutation(np.resize(np.asarray(spec), size))
    raise ModelSpecError(
        f"The distribution of predictor '{name}' must be a scipy.stats distribution, a list of "
        f"category labels or a function f(rng, size); got {spec!r}."
    )


@dataclass(frozen=True)
class PlannedDesign:
    """Assumptions of a power analysis for a two-level design (see the module docstring).

    Attributes
    ----------
    formula : str
        Model formula with one grouping factor, e.g. ``"y ~ x * w + (1 + x | g)"``.
    fixed : dict
        Fixed effect by design column (``"Intercept"``, ``"x"``, ``"x:w"``, ``"sector[T.Public]"``).
    sd : dict
        Group term -> SD of each of its coefficients (one value, a list in the order of the
        term, or a dict by coefficient).
    cor : dict
        Group term -> correlation of its two coefficients, or its full correlation matrix
        (default: uncorrelated).
    sigma : float or None
        Residual SD (gaussian).
    level1, level2 : dict
        Distributions of the level-1 and level-2 predictors by column.
    family : str
    trials : int or None
        Binomial trials per observation.
    """

    formula: str
    fixed: dict[str, float]
    sd: dict[str, Any]
    cor: dict[str, Any] = field(default_factory=dict)
    sigma: float | None = None
    level1: dict[str, Distribution] = field(default_factory=dict)
    level2: dict[str, Distribution] = field(default_factory=dict)
    family: str = "gaussian"
    trials: int | None = None

    @property
    def response(self) -> str:
        return parse_formula(self.formula).fixed.response

    @property
    def factor(self) -> str:
        """The grouping factor."""
        spec = parse_formula(self.formula)
        factors = list(dict.fromkeys(name for g in spec.groups for name in g.factor))
        if len(factors) != 1:
            raise ModelSpecError(
                f"A power analysis plans a two-level design: the formula needs exactly one "
                f"grouping factor, but '{self.formula}' has {factors or 'none'}."
            )
        return factors[0]

    def predictors(self, n_groups: int, n_per_group: int, rng: np.random.Generator) -> pd.DataFrame:
        """Groups and predictors of one data set (response column set to 0)."""
        factor = self.factor
        groups = np.repeat(np.arange(n_groups), n_per_group)
        n = groups.size
        data = pd.DataFrame({factor: [f"{factor}{j + 1}" for j in groups]})
        for name, spec in self.level1.items():
            data[name] = _draw(spec, rng, n, name)
        for name, spec in self.level2.items():
            data[name] = _draw(spec, rng, n_groups, name)[groups]
        data[self.response] = 0
        if self.trials is not None:
            data["trials"] = int(self.trials)
        return data

    def design(self, data: pd.DataFrame) -> Design:
        """The model's design on ``data`` (checks that every predictor has a distribution)."""
        spec = parse_formula(self.formula)
        try:
            return make_design(
                spec,
                data,
                level2={self.factor: list(self.level2)} if self.level2 else None,
                family=self.family,
                trials="trials" if self.trials is not None else None,
            )
        except ModelSpecError:
            raise
        except Exception as err:  # a predictor without a distribution, typically
            raise ModelSpecError(
                f"Cannot build '{self.formula}' from the planned predictors "
                f"({', '.join([*self.level1, *self.level2]) or 'none'}): {err} Give every "
                "predictor a distribution in level1= (one value per row) or level2= (one per "
                "group)."
            ) from err

    def coefficients(self, design: Design) -> tuple[np.ndarray, list[np.ndarray]]:
        """Fixed effects in design order and each group term's covariance matrix."""
        missing = [c for c in design.fixed_columns if c not in self.fixed]
        unknown = [c for c in self.fixed if c not in design.fixed_columns]
        if missing or unknown:
            raise ModelSpecError(
                f"fixed= must give a value for each fixed effect of the model, "
                f"{list(design.fixed_columns)}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown {unknown}" if unknown else "")
                + "."
            )
        beta = np.array([float(self.fixed[c]) for c in design.fixed_columns])
        covs = []
        names = [b.name for b in design.blocks]
        bad = [k for k in [*self.sd, *self.cor] if k not in names]
        if bad:
            raise ModelSpecError(f"sd=/cor= name unknown group term(s) {bad}; have {names}.")
        for block in design.blocks:
            if block.name not in self.sd:
                raise ModelSpecError(
                    f"sd= needs the SD of {list(block.columns)} across '{block.factor}', e.g. "
                    f"sd={{'{block.name}': {[0.5] * len(block.columns)}}}."
                )
            sds = _per_coefficient(self.sd[block.name], block.columns, block.name)
            cor = np.eye(len(sds))
            if block.name in self.cor:
                value = np.asarray(self.cor[block.name], dtype=float)
                cor = (
                    np.array([[1.0, float(value)], [float(value), 1.0]])
                    if value.ndim == 0
                    else value
                )
                if cor.shape != (len(sds), len(sds)):
                    raise ModelSpecError(
                        f"cor= for '{block.name}' must be one number (two coefficients) or a "
                        f"{len(sds)}x{len(sds)} matrix; got shape {value.shape}."
                    )
            cov = sds[:, None] * cor * sds[None, :]
            if np.any(np.linalg.eigvalsh(cov) < -1e-12):
                raise ModelSpecError(
                    f"The covariance of '{block.name}' from sd= and cor= is not positive "
                    "semi-definite; check the correlations."
                )
            covs.append(cov)
        if get_family(self.family).has_sigma and self.sigma is None:
            raise ModelSpecError("A gaussian design needs sigma=, the residual SD.")
        return beta, covs

    def simulate(self, n_groups: int, n_per_group: int, rng: np.random.Generator) -> pd.DataFrame:
        """One data set: predictors, groups and a response drawn from the assumed model."""
        data = self.predictors(n_groups, n_per_group, rng)
        design = self.design(data)
        beta, covs = self.coefficients(design)
        eta = design.X @ beta
        for block, cov in zip(design.blocks, covs, strict=True):
            u = rng.multivariate_normal(np.zeros(len(cov)), cov, size=len(block.levels))
            eta = eta + (block.Z * u[block.codes]).sum(axis=1)
        trials = np.full(eta.shape, self.trials) if self.trials is not None else None
        sigma = np.asarray(self.sigma) if self.sigma is not None else None
        data[self.response] = sample_response(
            design.family, eta, rng=rng, sigma=sigma, trials=trials
        )
        return data


def _per_coefficient(value: Any, columns: Sequence[str], name: str) -> np.ndarray:
    if isinstance(value, Mapping):
        missing = [c for c in columns if c not in value]
        if missing:
            raise ModelSpecError(
                f"sd= for '{name}' lacks {missing}; its terms are {list(columns)}."
            )
        return np.array([float(value[c]) for c in columns])
    sds = np.atleast_1d(np.asarray(value, dtype=float))
    if sds.size == 1:
        sds = np.repeat(sds, len(columns))
    if sds.size != len(columns) or np.any(sds < 0):
        raise ModelSpecError(
            f"sd= for '{name}' needs {len(columns)} non-negative values, one per term "
            f"{list(columns)}; got {value!r}."
        )
    return sds


SimulateFn = Callable[[int, int, np.random.Generator], pd.DataFrame]
