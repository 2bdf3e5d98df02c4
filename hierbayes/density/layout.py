"""Pack a model into the arrays that :func:`hierbayes.density.kernel.logp_grad` reads.

:func:`make_layout` turns a :class:`~hierbayes.design.Design`, its resolved priors and
parameterisation into a :class:`Layout`: where each parameter sits in the unconstrained vector
``x``, the data and prior parameters as flat arrays, and a table of their addresses. Models the
kernel cannot evaluate (a prior distribution it does not know) raise :class:`Unsupported`, and
:func:`hierbayes.model.Model.fit` then compiles the PyMC model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hierbayes.density import agq
from hierbayes.density import codes as K
from hierbayes.density.agq import agq_nodes
from hierbayes.density.centring import Shift, hierarchical_centring
from hierbayes.density.crossed_layout import crossed_statistics
from hierbayes.density.cutpoints import cutpoint_rows
from hierbayes.density.dpar_layout import DparLayout, pack_dpar
from hierbayes.density.expanded_draws import CHOICE_CODES, start_values
from hierbayes.density.fixed_cells import pack_cells
from hierbayes.density.kernel import logp_grad
from hierbayes.density.laplace_layout import laplace_factor
from hierbayes.density.pairs_layout import nested_pairs
from hierbayes.density.partial_layout import block_weights
from hierbayes.density.prior_rows import Unsupported, prior_rows
from hierbayes.density.prior_rows import lkj_constant as _lkj_constant
from hierbayes.density.prior_rows import support_point as _support_point
from hierbayes.density.shear_layout import centred_columns, shear_centres
from hierbayes.design import Design, GroupBlock
from hierbayes.design.ordinal import cutpoint_labels
from hierbayes.design.weights import column_means
from hierbayes.errors import PriorError
from hierbayes.families import log_density_constant
from hierbayes.priors import Prior

__all__ = ["BlockLayout", "Layout", "Unsupported", "centred_fixed_design", "make_layout"]


def centred_fixed_design(design: Design) -> tuple[np.ndarray, np.ndarray, bool]:
    """The fixed part as the model samples it: ``W = [1, X - mean(X)]`` (or ``X`` without an
    intercept), the column means, and whether there is an intercept.

    ``θ = [Intercept_c, β]`` multiplies ``W``; ``Intercept = Intercept_c - mean(X) @ β``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> W, means, has_intercept = centred_fixed_design(m.design)
    >>> W.shape, means.round(2).tolist(), has_intercept
    ((180, 2), [4.5], True)
    """
    columns = list(design.fixed_columns)
    has_intercept = "Intercept" in columns
    slopes = [j for j, c in enumerate(columns) if c != "Intercept"]
    Xs = design.X[:, slopes]
    # weighted means with likelihood weights, so aggregated and expanded data agree
    centred = has_intercept or design.family.cutpoints  # cut-points: at the means, as brms
    means = column_means(Xs, design.weights) if centred else np.zeros(len(slopes))
    parts = ([np.ones((design.n_obs, 1))] if has_intercept else []) + [Xs - means]
    return np.ascontiguousarray(np.column_stack(parts), dtype=float), means, has_intercept


@dataclass(frozen=True)
class BlockLayout:
    """Where one group term's parameters sit in ``x``.

    ``effects`` covers ``q`` consecutive runs of ``J`` values, one per coefficient (centred
    ``u`` or non-centred ``z`` as ``choice`` says); None when the factor is integrated out. With
    ``intercept_shift`` (any shift) the run of coefficient ``shift_coefficients[a]`` holds ``u``
    plus ``shift_values[:, a] * θ[shift_columns[a]]`` summed over ``a``: the fixed terms sampled
    inside the group effects (hierarchical centring, :mod:`hierbayes.density.centring`).
    """

    block: GroupBlock
    sd: slice
    corr: slice | None
    effects: slice | None
    choice: tuple[str, ...]
    intercept_shift: bool = False
    shift_columns: tuple[int, ...] = ()
    shift_values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    shift_coefficients: tuple[int, ...] = ()
    centre: np.ndarray | None = None  # sheared: its coefficients' centres (density.shear)
    weights: np.ndarray | None = None  # partially centred: each group's λ (effects_partial)

    @property
    def marginal(self) -> bool:
        """Whether the term's effects are integrated out."""
        return self.effects is None


@dataclass(frozen=True)
class Layout:
    """A model packed for the kernel.

    Attributes
    ----------
    n_dim : int
        Length of the unconstrained vector ``x``.
    fixed_columns : tuple of str
        The design's fixed-effect columns (the order of ``b``).
    theta : slice
        ``[Intercept_c, β]`` (or ``β`` alone without an intercept).
    has_intercept : bool
    means : ndarray
        Means of the slope columns (subtracted in ``W``).
    sigma : int or None
        Position of ``log σ``.
    family_params : dict
        Position of the log of each of the family's own parameters (``sigma``, ...), or of
        its logit for those in ``logit_params``.
    logit_params : frozenset of str
        The own parameters that are probabilities, sampled on the logit scale (``zi``).
    cutpoints : slice or None
        The ordered cut-points of an ordinal family, unconstrained
        (:mod:`hierbayes.density.cutpoints`), with their labels ``cutpoint_labels``.
    dpar : DparLayout or None
        The linear predictor of an own parameter (``sigma="~ ..."``), which is then not in
        ``family_params``.
    blocks : tuple of BlockLayout
    table : ndarray of int64
        Number of arrays, then the address and length of each: what the kernel reads.
    arrays : tuple of ndarray
        The arrays the table points to (kept alive with the layout).
    center : ndarray
        Centre of the initial points (each chain jitters it by up to ±1).
    """

    n_dim: int
    fixed_columns: tuple[str, ...]
    theta: slice
    has_intercept: bool
    means: np.ndarray
    sigma: int | None
    blocks: tuple[BlockLayout, ...]
    table: np.ndarray
    arrays: tuple[np.ndarray, ...]
    center: np.ndarray
    family_params: dict[str, int] = field(default_factory=dict)
    logit_params: frozenset[str] = frozenset()
    cutpoints: slice | None = None
    cutpoint_labels: tuple[str, ...] = ()
    dpar: DparLayout | None = None

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Log density and gradient at ``x`` (for tests and checks; sampling calls the kernel
        directly)."""
        grad = np.empty(self.n_dim)
        value = logp_grad(np.ascontiguousarray(x, dtype=float), self.table, grad)
        return float(value), grad


def make_layout(
    design: Design,
    priors: dict[str, Prior],
    parameterization: dict[str, tuple[str, ...]],
) -> Layout:
    """Pack the model for :func:`hierbayes.density.kernel.logp_grad`.

    Parameters
    ----------
    design : Design
    priors : dict
        Resolved priors (:func:`hierbayes.priors.resolve_priors`).
    parameterization : dict
        Resolved parameterisation (:func:`hierbayes.build.resolve_parameterization`).

    Raises
    ------
    Unsupported
        When a prior is not one the kernel evaluates.
    """
    from hierbayes.build.crossed_marginal import crossed_design
    from hierbayes.build.marginal import factor_design
    from hierbayes.build.nested_marginal import nested_chain

    W, means, has_intercept = centred_fixed_design(design)
    n, p = W.shape
    y = np.asarray(design.y, dtype=float)
    offset = design.offset
    weights = np.ones(len(y)) if design.weights is None else design.weights
    # the kernel's row loops add into per-group sums; rows in a random (fixed) order avoid long
    # runs of additions into the same group, which wait on each other
    order = np.random.default_rng(0).permutation(n)
    columns = list(design.fixed_columns)
    fixed_rows = [
        prior_rows(
            "Intercept" if c == "Intercept" else f"b|{c}", priors[_fixed_name(c)], 1, positive=False
        )
        for c in (["Intercept"] if has_intercept else []) + [c for c in columns if c != "Intercept"]
    ]
    fixed_priors = np.concatenate(fixed_rows) if fixed_rows else np.zeros((0, 4))
    center: list[np.ndarray] = [_support_point(fixed_priors, positive=False)]
    pos = p
    marginal_names = [b.name for b in design.blocks if parameterization[b.name][0] == "marginal"]
    laplace_names = [
        b.name for b in design.blocks if parameterization[b.name][0] in ("laplace", "agq")
    ]
    # factors that nest, all integrated out together (hierbayes.density.nested_marginal)
    nested = nested_chain(design, marginal_names) if marginal_names else None
    nested_cols = nested.columns() if nested is not None else {}
    # crossed varying intercepts, all integrated out together (density.crossed_marginal)
    crossed = crossed_design(design, marginal_names) if marginal_names and not nested else None
    centres = shear_centres(design, parameterization, means)  # density.shear_layout
    shifts = hierarchical_centring(design, parameterization, W, means, has_intercept, centres)
    blocks: list[BlockLayout] = []
    block_arrays: list[list[np.ndarray]] = []
    eff_at = cov_at = sd_at = marg_col = 0
    for block in design.blocks:
        q, J = len(block.columns), len(block.levels)
        choice = parameterization[block.name]
        marginal = block.name in marginal_names or block.name in laplace_names
        sd_rows = prior_rows(f"sd|{block.name}", priors[f"sd|{block.name}"], q, positive=True)
        sd = slice(pos, pos + q)
        pos += q
        center.append(start_values(_support_point(sd_rows, positive=True), choice))
        corr = None
        lkj = np.zeros(2)
        if block.correlated:
            eta = float(priors[f"cor|{block.name}"].kwargs["eta"])
            if not eta > 0:
                raise PriorError(f"eta of the LKJ prior of 'cor|{block.name}' must be positive.")
            lkj = np.array([eta, _lkj_constant(eta, q)])
            m = q * (q - 1) // 2
            corr = slice(pos, pos + m)
            pos += m
            center.append(np.zeros(m))
        effects = None
        if not marginal:
            effects = slice(pos, pos + J * q)
            pos += J * q
            start = np.zeros(J * q)
            held = shifts.get(block.name, Shift((), (), np.zeros((J, 0))))
            for a, (c, k) in enumerate(zip(held.columns, held.coefficients, strict=True)):
                start[k * J : (k + 1) * J] += held.values[:, a] * center[0][c]  # fixed centres
            center.append(start)
        ones = q == 1 and bool(np.all(block.Z[:, 0] == 1.0))
        bmeta = np.zeros(K.B_SIZE, dtype=np.int64)
        bmeta[K.B_Q], bmeta[K.B_J] = q, J
        bmeta[K.B_CORRELATED] = int(block.correlated)
        bmeta[K.B_MARGINAL] = int(marginal)
        bmeta[K.B_OFF_SD] = sd.start
        bmeta[K.B_OFF_CORR] = corr.start if corr is not None else -1
        bmeta[K.B_OFF_EFF] = effects.start if effects is not None else -1
        bmeta[K.B_MARG_COL] = nested_cols.get(block.name, marg_col) if marginal else -1
        bmeta[K.B_EFF_AT] = eff_at if not marginal else -1
        bmeta[K.B_COV_AT] = cov_at
        bmeta[K.B_SD_AT] = sd_at
        held = shifts.get(block.name, Shift((), (), np.zeros((0, 0))))
        bmeta[K.B_HC] = len(held.columns)
        if marginal:
            marg_col += q
        else:
            eff_at += J * q
        cov_at += q * q
        sd_at += q
        block_arrays.append(
            [
                bmeta,
                np.array([CHOICE_CODES.get(c, 0) for c in choice], dtype=np.int64),
                sd_rows.ravel(),
                lkj,
                np.ascontiguousarray(block.codes[order], dtype=np.int64),
                np.zeros(0)
                if ones
                else np.ascontiguousarray(
                    centred_columns(block, centres.get(block.name))[order].T
                ).ravel(),
                np.array(held.columns + held.coefficients, dtype=np.int64),
                np.ascontiguousarray(held.values, dtype=float).ravel(),
                block_weights(design, block, choice, priors),  # partially centred (partial_layout)
            ]
        )
        blocks.append(
            BlockLayout(
                block,
                sd,
                corr,
                effects,
                choice,
                bool(held.columns),
                held.columns,
                held.values,
                held.coefficients,
                centres.get(block.name),
                block_arrays[-1][K.P_LAMBDA],
            )
        )
    own = () if design.family.cutpoints else design.family.params
    own = tuple(n for n in own if design.dpar is None or n != design.dpar.name)  # not by row
    unit = [design.family.transform(name) == "logit" for name in own]
    own_rows = [
        prior_rows(name, priors[name], 1, positive=True, unit=u)
        for name, u in zip(own, unit, strict=True)
    ]
    own_priors = np.concatenate(own_rows) if own_rows else np.zeros((0, 4))
    family_params = slice(pos, pos + len(own))
    pos += len(own)
    center.extend(_support_point(rows, positive=True) for rows in own_rows)
    cut = None
    if design.family.cutpoints:  # one ordered vector of own parameters
        own_priors, start = cutpoint_rows(design, priors, prior_rows)
        cut = slice(pos, pos + len(start))
        pos = cut.stop
        center.append(start)
    dpar = None  # a linear predictor of an own parameter (hierbayes.density.dpar_layout)
    if design.dpar is not None:
        dpar = pack_dpar(design, priors, pos, order, (eff_at, cov_at, sd_at))
        pos, (eff_at, cov_at, sd_at) = dpar.stop, dpar.scratch
        center.append(dpar.center)
    meta = np.zeros(K.M_SIZE, dtype=np.int64)
    meta[K.M_NDIM], meta[K.M_FAMILY], meta[K.M_NOBS], meta[K.M_P] = pos, design.family.code, n, p
    meta[K.M_NBLOCKS] = len(design.blocks)
    sampled = cut or family_params  # the family's own parameters in x
    meta[K.M_FPAR] = sampled.start if own or cut else -1
    meta[K.M_NFPAR] = sampled.stop - sampled.start
    meta[K.M_ORDERED] = int(cut is not None)
    meta[K.M_EFF_SIZE], meta[K.M_COV_SIZE], meta[K.M_SD_SIZE] = eff_at, cov_at, sd_at
    if dpar is not None:
        meta[K.M_NDBLOCKS], meta[K.M_DPAR] = len(dpar.block_arrays), dpar.layout.index + 1
    empty = np.zeros(0)
    suff = {k: empty for k in ("wtw", "wty", "yty", "ztz", "ztw", "zty", "mz")}
    mcodes = np.zeros(0, dtype=np.int64)
    if nested is not None:
        _nested_statistics(design, nested, W, y, offset, has_intercept, meta, suff)
        mcodes = nested.tree()
    elif crossed is not None:
        covs = {
            b.block.name: int(a[0][K.B_COV_AT]) for b, a in zip(blocks, block_arrays, strict=True)
        }
        mcodes = crossed_statistics(design, crossed, W, y, offset, has_intercept, meta, suff, covs)
    elif marginal_names:
        factor = factor_design(design, marginal_names)
        meta[K.M_MARG_Q], meta[K.M_MARG_J] = factor.q, factor.n_groups
        alone = len(marginal_names) == len(design.blocks)
        meta[K.M_SUFFSTAT] = int(alone)
        suff["ztz"] = factor.cross(factor.Z).ravel()
        if alone:
            # centre y on its mean when there is an intercept: r'r = y'y - 2θ'W'y + θ'W'Wθ then
            # suffers no cancellation (the intercept absorbs the shift)
            # an offset shifts y (gaussian)
            y_off = y - offset if offset is not None else y
            shift = float(y_off.mean()) if has_intercept else 0.0
            yc = y_off - shift
            suff["wtw"] = (W.T @ W).ravel()
            suff["wty"] = W.T @ yc
            suff["yty"] = np.array([yc @ yc, shift])
            suff["ztw"] = np.ascontiguousarray(
                factor.cross(W).reshape(factor.n_groups * factor.q, p).T
            ).ravel()
            suff["zty"] = factor.cross(yc[:, None]).ravel()
        else:
            mcodes = np.ascontiguousarray(factor.codes[order], dtype=np.int64)
            if not (factor.q == 1 and np.all(factor.Z == 1.0)):
                suff["mz"] = np.ascontiguousarray(factor.Z[order].T, dtype=float).ravel()
    if laplace_names:  # factors integrated out by Laplace (density.laplace, laplace_joint)
        covs = {
            b.block.name: int(a[0][K.B_COV_AT]) for b, a in zip(blocks, block_arrays, strict=True)
        }
        mcodes, suff["mz"] = laplace_factor(design, laplace_names, order, meta, covs)
    trials = (
        np.asarray(design.trials, dtype=float)[order] if design.trials is not None else np.zeros(0)
    )

    arrays = [
        meta,
        y[order],
        np.ascontiguousarray(W[order].T).ravel(),
        fixed_priors.ravel(),
        own_priors.ravel(),
        trials,
        np.array([(log_density_constant(design.family, y, design.trials) * weights).sum()]),
        suff["wtw"],
        suff["wty"],
        suff["yty"],
        suff["ztz"],
        suff["ztw"],
        suff["zty"],
        mcodes,
        suff["mz"],
        np.zeros(0) if offset is None else np.asarray(offset, dtype=float)[order],
        np.zeros(0) if design.weights is None else np.asarray(design.weights, dtype=float)[order],
    ]
    assert len(arrays) == K.N_GLOBAL
    for extra in block_arrays + (dpar.block_arrays if dpar is not None else []):
        assert len(extra) == K.PER_BLOCK
        arrays.extend(extra)
    arrays.extend(dpar.arrays if dpar is not None else [])
    pairs = nested_pairs(design, parameterization, blocks)  # rotated pairs (density.pairs)
    if pairs.size:
        meta[K.M_PAIRS] = len(arrays)
        arrays.append(pairs)
    if centres:  # each coefficient's centre, at its SDs' place (density.shear)
        meta[K.M_SHEAR] = len(arrays)
        arrays.append(
            np.concatenate([centres.get(b.name, np.zeros(len(b.columns))) for b in design.blocks])
        )
    if any(parameterization[name][0] == "agq" for name in laplace_names):  # density.agq
        meta[K.M_AGQ] = len(arrays)
        arrays.append(agq_nodes(agq.AGQ_NODES))
    if meta[K.M_SUFFSTAT] == 0:  # the fixed part by cells of rows (density.fixed_cells)
        pack_cells(arrays, W[order])
    arrays = [np.ascontiguousarray(a) for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    table = np.empty(1 + 2 * len(arrays), dtype=np.int64)
    table[0] = len(arrays)
    for k, a in enumerate(arrays):
        table[1 + 2 * k] = a.ctypes.data
        table[2 + 2 * k] = a.size
    table.flags.writeable = False
    return Layout(
        n_dim=pos,
        fixed_columns=tuple(design.fixed_columns),
        theta=slice(0, p),
        has_intercept=has_intercept,
        means=means,
        sigma=family_params.start + own.index("sigma") if "sigma" in own else None,
        blocks=tuple(blocks),
        table=table,
        arrays=tuple(arrays),
        center=np.concatenate(center),
        family_params=dict(zip(own, range(family_params.start, family_params.stop), strict=True)),
        logit_params=frozenset(name for name, u in zip(own, unit, strict=True) if u),
        cutpoints=cut,
        cutpoint_labels=tuple(cutpoint_labels(design.response_levels or ())),
        dpar=dpar.layout if dpar is not None else None,
    )


def _nested_statistics(
    design: Design,
    nested: Any,
    W: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray | None,
    has_intercept: bool,
    meta: np.ndarray,
    suff: dict[str, np.ndarray],
) -> None:
    """Sufficient statistics of a nested chain integrated out (all factors): the bottom level's
    groups' ``X'X``, ``X'W``, ``X'(y - shift)`` with ``X`` every level's columns."""
    from hierbayes.density.nested_marginal import NESTED

    X = nested.X
    n_leaf, d, p = nested.leaves.n_groups, X.shape[1], W.shape[1]
    meta[K.M_MARG_Q], meta[K.M_MARG_J], meta[K.M_SUFFSTAT] = d, n_leaf, NESTED
    y_off = y - offset if offset is not None else y
    shift = float(y_off.mean()) if has_intercept else 0.0
    yc = y_off - shift
    suff["wtw"] = (W.T @ W).ravel()
    suff["wty"] = W.T @ yc
    suff["yty"] = np.array([yc @ yc, shift])
    suff["ztz"] = nested.leaf_cross(X).ravel()
    suff["ztw"] = np.ascontiguousarray(nested.leaf_cross(W).reshape(n_leaf * d, p).T).ravel()
    suff["zty"] = nested.leaf_cross(yc[:, None]).ravel()


def _fixed_name(column: str) -> str:
    return "Intercept" if column == "Intercept" else f"b|{column}"
