"""Population-level parameters of a model as labelled scalars: true values and posterior draws.

Labels follow the posterior's variable names and coordinates: ``b[Intercept]``, ``b[x]``,
``sd|g[Intercept]``, ``cor|g[Intercept, x]`` (each pair once), then the family's own parameters
(``sigma``; Student-t's ``nu``, a ``shape``; an ordinal model's ``cutpoints[1|2]``, ...). A
parameter with its own formula (``sigma="~ x + (1 | g)"``) is labelled by its coefficients and
group-term SDs instead: ``b_sigma[Intercept]``, ``b_sigma[x]``, ``sd|sigma_g[Intercept]``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from hierbayes.design import Design
from hierbayes.design.ordinal import cutpoint_labels

__all__ = ["population_draws", "population_values"]


def _labels(design: Design) -> list[tuple[str, str, tuple[int, ...]]]:
    """(label, variable, index) of every population-level scalar, in a stable order."""
    out = [(f"b[{c}]", "b", (j,)) for j, c in enumerate(design.fixed_columns)]
    dpar = design.dpar  # sigma=, shape=, phi=: b_sigma[...], its group terms' sd|sigma_g[...]
    if dpar is not None:
        out += [
            (f"b_{dpar.name}[{c}]", f"b_{dpar.name}", (j,))
            for j, c in enumerate(dpar.fixed_columns)
        ]
    for block in (*design.blocks, *(dpar.blocks if dpar is not None else ())):
        name = block.name
        out += [(f"sd|{name}[{c}]", f"sd|{name}", (k,)) for k, c in enumerate(block.columns)]
        if block.correlated and len(block.columns) > 1:
            cols = block.columns
            out += [
                (f"cor|{name}[{cols[i]}, {cols[j]}]", f"cor|{name}", (i, j))
                for i in range(len(cols))
                for j in range(i + 1, len(cols))
            ]
    for name in design.family.params:  # sigma, nu, a shape; an ordinal model's cut-points
        if dpar is not None and name == dpar.name:  # modelled: its coefficients above
            continue
        if design.family.cutpoints:
            labels = cutpoint_labels(design.response_levels or ())
            out += [(f"{name}[{c}]", name, (k,)) for k, c in enumerate(labels)]
        else:
            out.append((name, name, ()))
    return out


def population_values(design: Design, values: Mapping[str, np.ndarray]) -> dict[str, float]:
    """One set of parameter values (e.g. one prior draw, without its draw axis) by label.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> v = {"b": np.array([250.0, 10.0]), "sd|Subject": np.array([25.0, 6.0]),
    ...      "cor|Subject": np.array([[1.0, 0.1], [0.1, 1.0]]), "sigma": np.array(25.0)}
    >>> population_values(m.design, v)["cor|Subject[Intercept, Days]"]
    0.1
    """
    return {label: float(np.asarray(values[var])[index]) for label, var, index in _labels(design)}


def population_draws(design: Design, posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """Posterior draws of every population-level scalar by label, each (chain, draw)."""
    out = {}
    for label, var, index in _labels(design):
        da = posterior[var]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        values = da.transpose("chain", "draw", *extra).to_numpy()
        out[label] = values[(slice(None), slice(None), *index)]
    return out
