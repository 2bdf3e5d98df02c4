"""Compile a PyMC model for nutpie with less numba work than ``nutpie.compile_pymc_model``.

``Model.fit`` samples with nutpie through hierbayes's own compiled log-density
(:mod:`hierbayes.density`); this module serves models it cannot evaluate (a prior distribution
the kernel lacks), whose PyMC model must be compiled. For small models, compiling takes most of
the time of such a fit. nutpie wraps the numba functions
of the log-density and of the deterministics in C callbacks; two parts of its wrappers cost
seconds of numba type inference and LLVM work without doing anything our models need:

* copying the gradient with a slice assignment (``out[...] = grad``), whose shape-mismatch
  error path numba compiles anew for each wrapper (about 1 s each); an element loop is enough;
* unpacking shared variables through a record of pointers; a model with its dimensions and data
  frozen (``freeze_dims_and_data``) has none, so the functions take only the parameters.

(Building the callbacks at numba's optimisation level 0 instead of 3 saves little compile time
and costs much sampling time on large data: on InstEval, 73,421 rows, a gradient took 17 ms
instead of 1.1 ms. They are built at numba's default level.)

Everything else (graph rewriting, the numba functions themselves, initial points, names and
shapes of the draws) is nutpie's own. :func:`compile_nutpie` falls back to
``nutpie.compile_pymc_model`` when nutpie's internals differ from what this module expects.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pymc as pm

from hierbayes.build.initvals import ordered_starts

__all__ = ["compile_nutpie"]

_log = logging.getLogger(__name__)


def _logp_wrapper(n_dim: int, logp_fn: Any) -> Any:
    import numba

    sig = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )

    def logp(dim, x_, out_, logp_, user_data_):  # pragma: no cover - runs compiled
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        value, grad = logp_fn(x)
        finite = True
        for i in range(n_dim):
            out_[i] = grad[i]
            if not np.isfinite(grad[i]):
                finite = False
        logp_[0] = value
        if not finite:
            return 3
        if not np.isfinite(value):
            return 4
        return 0

    return numba.cfunc(sig)(logp)


def _expand_wrapper(n_dim: int, n_expanded: int, expand_fn: Any) -> Any:
    import numba

    sig = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )

    def expand(dim, expanded, x_, out_, user_data_):  # pragma: no cover - runs compiled
        if dim != n_dim or expanded != n_expanded:
            return -1
        x = numba.carray(x_, (n_dim,))
        (values,) = expand_fn(x)
        for i in range(n_expanded):
            out_[i] = values[i]
        return 0

    return numba.cfunc(sig)(expand)


def compile_nutpie(model: pm.Model) -> Any:
    """A nutpie compiled model of ``model`` (numba backend), for ``nutpie.sample``.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    nutpie compiled model
        Equivalent to ``nutpie.compile_pymc_model(model)`` with its dimensions and data frozen.
    """
    import nutpie
    from pymc.initial_point import make_initial_point_fn
    from pymc.model.transform.optimization import freeze_dims_and_data

    frozen = freeze_dims_and_data(model)
    try:
        from nutpie import compile_pymc as cp

        init = cp._wrap_with_lock(
            make_initial_point_fn(
                model=frozen,
                overrides=ordered_starts(frozen) or None,  # an ordinal model's cut-points
                default_strategy="support_point",
                jitter_rvs=set(frozen.free_RVs),
                return_transformed=True,
            )
        )
        n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info, renamed = cp._make_functions(
            frozen,
            mode="NUMBA",
            compute_grad=True,
            join_expanded=True,
            pymc_initial_point_fn=init,
            var_names=None,
        )
        if logp_pt.get_shared() or expand_pt.get_shared():
            raise ValueError("the model has shared variables")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=Warning)
            logp_c = _logp_wrapper(n_dim, logp_pt.vm.jit_fn)
            expand_c = _expand_wrapper(n_dim, n_expanded, expand_pt.vm.jit_fn)
        dims, coords = cp._prepare_dims_and_coords(frozen, shape_info, renamed)
        return cp.CompiledPyMCModel(
            _n_dim=n_dim,
            dims=dims,
            _coords=coords,
            _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
            compiled_logp_func=logp_c,
            compiled_expand_func=expand_c,
            initial_point_func=init_fn,
            shared_data={},
            shared_var_keys={},
            user_data=cp.make_user_data({}, {}),
            n_expanded=n_expanded,
            shape_info=shape_info,
            logp_func=logp_pt,
            expand_func=expand_pt,
            reparameterized_names=renamed,
        )
    except Exception as err:  # nutpie's own compile is the safe fallback
        _log.debug("falling back to nutpie.compile_pymc_model: %s", err)
        return nutpie.compile_pymc_model(model)
