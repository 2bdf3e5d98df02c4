"""Keep a Laplace fit only when its check passes; otherwise run the model again with the effects
sampled, and say so.

:mod:`hierbayes.density.laplace_check` puts the Pareto ``k`` of the approximation's
importance-sampling check into the posterior's attributes. Above
:data:`~hierbayes.density.laplace_check.PARETO_K_MAX` the approximate posterior may be far from
the exact one, so :func:`checked_laplace` samples the model again with the factor's effects
sampled (their parameterisation chosen as by ``"auto"`` without Laplace: expanded for a factor
whose groups mostly hold one nested group, :mod:`hierbayes.build.expanded`); ``fit.summary()``
shows why. A factor integrated out by quadrature is checked by the quadrature's own error instead
(:mod:`hierbayes.density.agq_check`) and run again the same way when that check fails.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from hierbayes.build import resolve_parameterization
from hierbayes.build.expanded import check_expanded
from hierbayes.build.laplace import laplace_blocks, sampled_choices
from hierbayes.density.adaptation import mass_matrix_adaptation
from hierbayes.density.agq_check import AGQ_CHECK, agq_failure
from hierbayes.density.laplace_check import LAPLACE_K, PARETO_K_MAX
from hierbayes.density.layout import make_layout
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.density.sampler import CompiledDensity, compile_density

__all__ = ["as_sampled", "checked_laplace"]


def checked_laplace(
    model: Any, idata: xr.DataTree, run: Callable[[CompiledDensity], xr.DataTree]
) -> tuple[xr.DataTree, Any]:
    """``(idata, model)`` when ``idata`` holds no Laplace check or the check passed; else ``run``
    on the model with the Laplace factor's effects sampled, with a note in
    ``attrs["sampling_notes"]``, and a shallow copy of ``model`` whose ``parameterization`` is
    the one sampled (so the summary's "Effects" line and saved fits describe the draws)."""
    posterior = idata["posterior"]
    k = posterior.attrs.get(LAPLACE_K)
    quadrature = agq_failure(posterior.attrs)  # a quadrature's own check (density.agq_check)
    if quadrature is None and (k is None or k <= PARETO_K_MAX):
        return idata, model
    names = laplace_blocks(model.parameterization)
    sampled = {
        name: "auto" if name in names else how for name, how in model.parameterization.items()
    }
    # "auto" inside a dict samples: expanded where auto would expand (a factor whose groups mostly
    # hold one nested group), else centred or non-centred, as the prior allows
    choices = check_expanded(
        model.design, model.prior_values, resolve_parameterization(model.design, sampled), sampled
    )
    # the mass-matrix adaptation a default fit uses for this design (sample_on_course)
    density = compile_density(make_layout(model.design, model.prior_values, choices))
    again = run(dataclasses.replace(density, adaptation=mass_matrix_adaptation(model.design)))
    post = again["posterior"].to_dataset()
    notes = [n for n in [post.attrs.get(SAMPLING_NOTES, "")] if n]
    how = ", ".join(f"{name}: {'/'.join(choices[name])}" for name in names)
    if quadrature is not None:
        why = f"The adaptive Gauss-Hermite quadrature failed its check: {quadrature}"
        post.attrs.update({a: v for a, v in posterior.attrs.items() if a.startswith(AGQ_CHECK)})
    else:
        why = "The Laplace approximation " + (
            f"failed its check (Pareto k = {k:.2f} > {PARETO_K_MAX})"
            if np.isfinite(k)
            else "could not be checked (a weight that is not finite: a mode not found)"
        )
        post.attrs[LAPLACE_K] = k
    notes.append(f"{why}; the model was run again with those effects sampled ({how}).")
    post.attrs[SAMPLING_NOTES] = "\n".join(notes)
    out = again.copy()
    out["posterior"] = xr.DataTree(post)
    fitted = copy.copy(model)
    fitted.parameterization = choices
    fitted._density = None
    return out, fitted


def as_sampled(model: Any) -> Any:
    """``model`` itself, or, when it asks for ``"laplace"`` terms, a shallow copy whose
    ``parameterization`` says what the PyMC model samples instead (those terms non-centred), so
    the summary's "Effects" line and saved fits describe the draws."""
    if not laplace_blocks(model.parameterization):
        return model
    fitted = copy.copy(model)
    fitted.parameterization = sampled_choices(model.parameterization)
    fitted._density = None
    return fitted
