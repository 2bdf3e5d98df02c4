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
        Residual SD (gaussian, student_t, lognormal; also accepted in ``params``).
    level1, level2 : dict
        Distributions of the level-1 and level-2 predictors by column.
    family : str
    trials : int or None
        Binomial trials per observation.
    params : dict
        The family's own parameters other than ``sigma``, by name: Student-t's ``nu``, the
        ``shape`` of negativebinomial and gamma, beta's ``phi``, the zero-inflation ``zi``,
        an ordinal model's ``cutpoints`` (a list); each one the family has is required.
    link : str or None
        The family's link (``None``: its default), e.g. ``"probit"`` for bernoulli.
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
    params: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

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
        data[self.response] = self._placeholder(n)
        if self.trials is not None:
            data["trials"] = int(self.trials)
        return data

    def _categories(self) -> list[int] | None:
        """An ordinal plan's category numbers ``1..K`` (``None`` for other families)."""
        if not get_family(self.family, self.link).cutpoints:
            return None
        cut = np.atleast_1d(np.asarray(self.params.get("cutpoints", [0.0, 1.0]), dtype=float))
        return list(range(1, cut.size + 2))

    def _placeholder(self, n: int) -> Any:
        """The response column before it is drawn: a value the family accepts (0, 1 for a
        positive response, 0.5 for a proportion), or every category of an ordinal plan."""
        categories = self._categories()
        if categories is None:
            family = get_family(self.family, self.link)
            trials = None if self.trials is None else np.array([float(self.trials)])
            valid = [v for v in (0, 1, 0.5) if family.check(np.array([float(v)]), trials) is None]
            return valid[0] if valid else 0
        return pd.Categorical(np.resize(categories, n), categories=categories, ordered=True)

    def design(self, data: pd.DataFrame) -> Design:
        """The model's design on ``data`` (checks that every predictor has a distribution)."""
        spec = parse_formula(self.formula)
        try:
            return make_design(
                spec,
                data,
                level2={self.factor: list(self.level2)} if self.level2 else None,
                family=get_family(self.family, self.link),
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
        self.own_parameters()
        return beta, covs

    def own_parameters(self) -> dict[str, Any]:
        """The family's own parameters by name (``sigma`` from ``sigma=`` or ``params``).

        Examples
        --------
        >>> plan = PlannedDesign("y ~ x + (1 | g)", {}, {}, family="negativebinomial",
        ...                      params={"shape": 2.0})
        >>> plan.own_parameters()
        {'shape': 2.0}
        """
        family = get_family(self.family, self.link)
        given = {**self.params, **({"sigma": self.sigma} if self.sigma is not None else {})}
        unknown = [name for name in given if name not in family.params]
        if unknown:
            raise ModelSpecError(
                f"The {family.name} family has no parameter {unknown}; its own parameters are "
                f"{list(family.params) or 'none'}."
            )
        missing = [name for name in family.params if name not in given]
        if missing:
            example = ", ".join(f"'{name}': ..." for name in missing)
            where = "sigma= (the residual SD)" if missing == ["sigma"] else f"params={{{example}}}"
            raise ModelSpecError(
                f"A {family.name} design needs the assumed value of its {missing}: pass {where}."
            )
        out: dict[str, Any] = {}
        for name in family.params:
            value = np.asarray(given[name], dtype=float)
            if family.cutpoints:
                if value.ndim != 1 or np.any(np.diff(value) <= 0):
                    raise ModelSpecError(
                        f"params={{'cutpoints': ...}} must be increasing cut-points, one fewer "
                        f"than the categories; got {given[name]!r}."
                    )
                out[name] = value
                continue
            bad = not np.isfinite(value) or value <= 0
            if family.transform(name) == "logit":
                bad = bad or value >= 1
            if bad:
                kind = "in (0, 1)" if family.transform(name) == "logit" else "positive"
                raise ModelSpecError(
                    f"The assumed {name} of the {family.name} family must be {kind}; got "
                    f"{given[name]!r}."
                )
            out[name] = float(value)
        return out

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
        y = sample_response(
            design.family, eta, rng=rng, trials=trials, params=self.own_parameters()
        )
        categories = self._categories()  # an ordinal response keeps all K categories
        data[self.response] = (
            y if categories is None else pd.Categorical(y, categories=categories, ordered=True)
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
