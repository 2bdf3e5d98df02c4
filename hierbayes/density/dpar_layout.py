"""Pack an own parameter's linear predictor (``sigma="~ ..."``) for the compiled kernel.

:func:`pack_dpar` is called by :func:`hierbayes.density.layout.make_layout` when the design has
one: it places the sub-model's coefficients ``θ_d = [Intercept_c, β]`` and its group terms in
``x`` after the mean's parameters, and builds the arrays :mod:`hierbayes.density.dpar_density`
reads. The variables are those of :mod:`hierbayes.build.dpar`: the group effects non-centred,
the priors by the same names (``sigma_Intercept``, ``b|sigma_<x>``, ``sd|sigma_<factor>``,
``cor|sigma_<factor>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hierbayes.density import codes as K
from hierbayes.density.dpar_density import DPAR_FAMILIES
from hierbayes.density.prior_rows import Unsupported, lkj_constant, prior_rows, support_point
from hierbayes.design import Design
from hierbayes.design.weights import column_means
from hierbayes.errors import PriorError
from hierbayes.priors import Prior

if TYPE_CHECKING:
    from hierbayes.density.layout import BlockLayout

__all__ = ["DparLayout", "DparPack", "pack_dpar"]


@dataclass(frozen=True)
class DparLayout:
    """Where the linear predictor of own parameter ``name`` sits in ``x``.

    Attributes
    ----------
    name : str
        The parameter (``"sigma"``).
    index : int
        Its position among the family's own parameters.
    theta : slice
        ``θ_d = [Intercept_c, β]`` (or ``β`` alone without an intercept) in ``x``.
    fixed_columns : tuple of str
        The sub-model's columns (``"Intercept"``, ``"treatment"``).
    has_intercept : bool
    means : ndarray
        Means of its slope columns (subtracted in its design).
    blocks : tuple of BlockLayout
        Its group terms (non-centred effects), named ``sigma_<factor>``.
    """

    name: str
    index: int
    theta: slice
    fixed_columns: tuple[str, ...]
    has_intercept: bool
    means: np.ndarray
    blocks: tuple[BlockLayout, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DparPack:
    """What :func:`pack_dpar` adds to a layout: the :class:`DparLayout`, the per-block arrays
    (after the mean's blocks), the parameter's own arrays (after every block), the centre of
    its coordinates, the next free position in ``x`` and the scratch sizes (effects,
    covariances, SDs) with its blocks counted."""

    layout: DparLayout
    block_arrays: list[list[np.ndarray]]
    arrays: list[np.ndarray]
    center: np.ndarray
    stop: int
    scratch: tuple[int, int, int]


def pack_dpar(
    design: Design,
    priors: dict[str, Prior],
    pos: int,
    order: np.ndarray,
    scratch: tuple[int, int, int],
) -> DparPack:
    """Pack ``design.dpar`` from position ``pos`` of ``x``, rows in ``order``.

    Raises
    ------
    Unsupported
        For a family or parameter the kernel cannot evaluate this way (then the PyMC model is
        sampled), or a prior it does not know.
    """
    from hierbayes.density.layout import BlockLayout

    dpar = design.dpar
    assert dpar is not None
    family = design.family
    if (
        family.code not in DPAR_FAMILIES
        or family.cutpoints
        or dpar.name not in family.params
        or family.transform(dpar.name) != "log"
    ):
        raise Unsupported(f"a linear predictor for {dpar.name} of the {family.name} family")
    columns = list(dpar.fixed_columns)
    has_intercept = "Intercept" in columns
    slopes = [j for j, c in enumerate(columns) if c != "Intercept"]
    Xs = dpar.X[:, slopes]
    means = column_means(Xs, design.weights) if has_intercept else np.zeros(len(slopes))
    parts = ([np.ones((design.n_obs, 1))] if has_intercept else []) + [Xs - means]
    W = np.column_stack(parts) if parts else np.zeros((design.n_obs, 0))
    names = ([f"{dpar.name}_Intercept"] if has_intercept else []) + [
        f"b|{dpar.name}_{columns[j]}" for j in slopes
    ]
    rows = [prior_rows(name, priors[name], 1, positive=False) for name in names]
    fixed_priors = np.concatenate(rows) if rows else np.zeros((0, 4))
    theta = slice(pos, pos + len(names))
    pos = theta.stop
    center = [support_point(fixed_priors, positive=False)]
    eff_at, cov_at, sd_at = scratch
    blocks: list[BlockLayout] = []
    block_arrays: list[list[np.ndarray]] = []
    for block in dpar.blocks:
        q, J = len(block.columns), len(block.levels)
        sd_rows = prior_rows(f"sd|{block.name}", priors[f"sd|{block.name}"], q, positive=True)
        sd = slice(pos, pos + q)
        pos += q
        center.append(support_point(sd_rows, positive=True))
        corr, lkj = None, np.zeros(2)
        if block.correlated:
            corr, lkj = slice(pos, pos + q * (q - 1) // 2), _lkj(priors, block.name, q)
            pos = corr.stop
            center.append(np.zeros(corr.stop - corr.start))
        effects = slice(pos, pos + J * q)
        pos = effects.stop
        center.append(np.zeros(J * q))
        bmeta = np.zeros(K.B_SIZE, dtype=np.int64)
        bmeta[K.B_Q], bmeta[K.B_J], bmeta[K.B_CORRELATED] = q, J, int(block.correlated)
        bmeta[K.B_OFF_SD], bmeta[K.B_OFF_EFF] = sd.start, effects.start
        bmeta[K.B_OFF_CORR] = corr.start if corr is not None else -1
        bmeta[K.B_MARG_COL] = -1
        bmeta[K.B_EFF_AT], bmeta[K.B_COV_AT], bmeta[K.B_SD_AT] = eff_at, cov_at, sd_at
        eff_at, cov_at, sd_at = eff_at + J * q, cov_at + q * q, sd_at + q
        ones = q == 1 and bool(np.all(block.Z[:, 0] == 1.0))
        block_arrays.append(
            [
                bmeta,
                np.zeros(q, dtype=np.int64),  # non-centred, as hierbayes.build.dpar
                sd_rows.ravel(),
                lkj,
                np.ascontiguousarray(block.codes[order], dtype=np.int64),
                np.zeros(0) if ones else np.ascontiguousarray(block.Z[order].T).ravel(),
                np.zeros(0, dtype=np.int64),
                np.zeros(0),
                np.zeros(0),  # no partially centred weights
            ]
        )
        blocks.append(BlockLayout(block, sd, corr, effects, ("noncentered",) * q))
    index = family.params.index(dpar.name)
    dmeta = np.array([index, len(family.params), len(names), theta.start], dtype=np.int64)
    arrays = [dmeta, np.ascontiguousarray(W[order].T, dtype=float).ravel(), fixed_priors.ravel()]
    assert len(arrays) == K.N_DPAR
    layout = DparLayout(
        dpar.name, index, theta, tuple(columns), has_intercept, means, tuple(blocks)
    )
    return DparPack(
        layout, block_arrays, arrays, np.concatenate(center), pos, (eff_at, cov_at, sd_at)
    )


def _lkj(priors: dict[str, Prior], name: str, q: int) -> np.ndarray:
    eta = float(priors[f"cor|{name}"].kwargs["eta"])
    if not eta > 0:
        raise PriorError(f"eta of the LKJ prior of 'cor|{name}' must be positive.")
    return np.array([eta, lkj_constant(eta, q)])


def dpar_blocks(layout: Any) -> tuple[BlockLayout, ...]:
    """The group terms of ``layout``'s own-parameter linear predictor (none without one)."""
    dpar = getattr(layout, "dpar", None)
    return dpar.blocks if dpar is not None else ()
