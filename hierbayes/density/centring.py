"""Hierarchical centring: which fixed terms the compiled kernel samples inside group effects.

When a group term's coefficient is centred (each group's data pin it down), the fixed effect of
the same coefficient is pinned down only through the group effects: the fixed effect and the
mean of the group effects form a ridge along which NUTS moves slowly, the narrower the fewer the
groups. Sampling each group's own coefficient ``V_jk = u_jk + x_j θ`` instead (hierarchical
centring, Gelfand, Sahu & Carlin 1995) takes those fixed effects out of the likelihood, which
then sees only ``V``; they enter through the prior of ``u_jk = V_jk - x_j θ`` alone, and the
rows' loops skip their columns. The map from ``(θ, u)`` to ``(θ, V)`` is a shear (unit
Jacobian), so the posterior is the same.

:func:`hierarchical_centring` picks, for the sampled terms:

* intercepts: the terms with a centred, all-ones intercept, fewest groups first: the intercept
  goes to the first, and each other fixed column to the first whose groups it is constant
  within (a group-level predictor such as an item's type or a respondent's gender);
* slopes: a centred coefficient ``k`` of a term whose column equals a fixed column ``x`` (a
  slope, an interaction, a dummy of a factor) holds that fixed effect ``β``, and the fixed
  effects of ``x`` times a group-level predictor (``cses:meanses`` for ``(1 + cses |
  school)``, with each group's value), fewest groups first where two terms vary ``x``. The
  fixed part uses ``x - mean(x)`` (the intercept sits at the predictors' means), so
  ``β (x - mean(x)) = V_jk x - u_jk x - β mean(x)``: the term ``-β mean(x)`` goes into the
  intercepts that hold the intercept (then those are the groups' own intercepts at ``x = 0``).
  A slope stays outside when its mean is not 0 and no term holds the intercept (a non-centred
  intercept: ``β`` would then stay in the likelihood through ``-β mean(x)``, a ridge with the
  intercept).

Effects of an own parameter's linear predictor (``sigma="~ ..."``) are non-centred and never
hold fixed terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hierbayes.design import Design, GroupBlock

__all__ = ["Shift", "hierarchical_centring"]


@dataclass(frozen=True)
class Shift:
    """The fixed terms sampled inside one term's centred effects.

    Coefficient ``coefficients[a]`` of group ``j`` is sampled as ``u + values[j, a] *
    θ[columns[a]]`` (summed over the ``a`` of that coefficient).
    """

    columns: tuple[int, ...]
    coefficients: tuple[int, ...]
    values: np.ndarray  # J x m


def hierarchical_centring(
    design: Design,
    parameterization: dict[str, tuple[str, ...]],
    W: np.ndarray,
    means: np.ndarray,
    has_intercept: bool,
    centres: dict[str, np.ndarray] | None = None,
) -> dict[str, Shift]:
    """The group terms whose centred effects are sampled with fixed terms added, and those
    terms (see the module docstring).

    Parameters
    ----------
    design : Design
    parameterization : dict
        Resolved parameterisation of each term.
    W, means, has_intercept
        The fixed part as the kernel samples it
        (:func:`hierbayes.density.layout.centred_fixed_design`).
    centres : dict, optional
        The sheared terms' centres (:func:`hierbayes.density.shear_layout.shear_centres`): a
        sheared slope's column is centred at its fixed column's mean, so it holds its own fixed
        slope with no shift of the intercept, and no interaction.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import centred_fixed_design
    >>> m = hb.Model("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    ...              hb.datasets.load("verbagg"), family="bernoulli", parameterization="centered")
    >>> W, means, has_intercept = centred_fixed_design(m.design)
    >>> shifts = hierarchical_centring(m.design, m.parameterization, W, means, has_intercept)
    >>> [(name, [m.design.fixed_columns[c] for c in s.columns]) for name, s in shifts.items()]
    [('item', ['Intercept', 'btype[T.scold]', 'btype[T.shout]', 'situ[T.self]']), \
('id', ['Anger', 'Gender[T.M]'])]
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", hb.datasets.load("sleepstudy"),
    ...              parameterization="centered")
    >>> W, means, has_intercept = centred_fixed_design(m.design)
    >>> s = hierarchical_centring(m.design, m.parameterization, W, means, has_intercept)
    >>> s["Subject"].columns, s["Subject"].coefficients, s["Subject"].values[0].tolist()
    ((0, 1, 1), (0, 1, 0), [1.0, 1.0, -4.5])
    """
    n, p = W.shape
    integrated = ("marginal", "laplace", "agq")
    sampled = [b for b in design.blocks if parameterization[b.name][0] not in integrated]
    entries: dict[str, list[tuple[int, int, np.ndarray]]] = {}
    taken: set[int] = set()
    carrier = None  # the term that holds the intercept
    intercepts = sorted(
        (
            b
            for b in sampled
            if parameterization[b.name][0] == "centered"
            and b.columns[0] == "Intercept"
            and bool(np.all(b.Z[:, 0] == 1.0))
        ),
        key=lambda b: len(b.levels),
    )
    for rank, block in enumerate(intercepts):
        J = len(block.levels)
        first = np.zeros(J, dtype=np.int64)
        first[block.codes[::-1]] = np.arange(n)[::-1]  # each group's first row
        cols = [0] if has_intercept and rank == 0 else []
        for c in range(1 if has_intercept else 0, p):
            if c not in taken and np.array_equal(W[:, c], W[first[block.codes], c]):
                cols.append(c)
        if cols:
            taken.update(cols)
            entries[block.name] = [(c, 0, W[first, c]) for c in cols]
        if has_intercept and rank == 0:
            carrier = block
    slopes = [j for j, c in enumerate(design.fixed_columns) if c != "Intercept"]
    first_slope = 1 if has_intercept else 0
    for block in sorted(sampled, key=lambda b: len(b.levels)):
        J = len(block.levels)
        for k, how in enumerate(parameterization[block.name]):
            if how != "centered" or bool(np.all(block.Z[:, k] == 1.0)):
                continue
            for c, values in _held_by_slope(design, block, k, slopes, first_slope, taken) or ():
                mean = float(means[c - first_slope])
                centre = (centres or {}).get(block.name)
                if centre is not None and centre[k] != 0.0:  # sheared (density.shear_layout)
                    if not np.all(values == 1.0) or centre[k] != mean:
                        continue  # only its own column, centred as the fixed one
                    mean = 0.0
                if mean != 0.0 and carrier is None:
                    continue
                taken.add(c)
                entries.setdefault(block.name, []).append((c, k, values))
                if mean != 0.0:
                    assert carrier is not None
                    held = entries.setdefault(carrier.name, [])
                    held.append((c, 0, np.full(len(carrier.levels), -mean)))
    return {
        name: Shift(
            tuple(c for c, _, _ in rows),
            tuple(k for _, k, _ in rows),
            np.ascontiguousarray(np.column_stack([v for _, _, v in rows]), dtype=float),
        )
        for name, rows in entries.items()
    }


def _held_by_slope(
    design: Design,
    block: GroupBlock,
    k: int,
    slopes: list[int],
    first_slope: int,
    taken: set[int],
) -> list[tuple[int, np.ndarray]]:
    """The columns of ``W`` (not yet held by another term) whose fixed terms coefficient ``k``
    of ``block`` can hold, and their values per group: a fixed column equal to the term's
    column ``z`` times a value constant within each group: ``z`` itself (1), or its interaction
    with a group-level predictor (``cses:meanses`` for ``(1 + cses | school)``: each school's
    ``meanses``)."""
    z = block.Z[:, k]
    J = len(block.levels)
    nonzero = z != 0.0
    first = np.zeros(J, dtype=np.int64)  # each group's first row with z != 0 (0 if none)
    rows = np.flatnonzero(nonzero)[::-1]
    first[block.codes[rows]] = rows
    out = []
    for a, j in enumerate(slopes):
        c = first_slope + a
        x = design.X[:, j]
        if c in taken or np.any(x[~nonzero] != 0.0):
            continue
        values = np.where(nonzero[first], x[first] / np.where(nonzero[first], z[first], 1.0), 0.0)
        if np.allclose(x, z * values[block.codes], rtol=1e-12, atol=0.0):
            out.append((c, values))
    return out
