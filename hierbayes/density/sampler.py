"""Sample the compiled log-density with nutpie: C callbacks, initial points, labelled draws.

nutpie calls two C functions per model: the log-density with its gradient, and an "expand"
function that turns a position into the values it stores. Both are numba ``cfunc`` objects of
:mod:`hierbayes.density.kernel`, cached on disk with it; they receive the model's
:attr:`~hierbayes.density.layout.Layout.table` as nutpie's ``user_data`` pointer. The expand
function stores the unconstrained position as it is; :func:`sample_density` then names and
labels the draws (:mod:`hierbayes.density.draws`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from hierbayes.density.codes import M_LAP_Q
from hierbayes.density.draws import posterior_dataset
from hierbayes.density.first_scale import FlooredStart, standardised_effects
from hierbayes.density.kernel import callbacks
from hierbayes.density.laplace_check import complete_laplace
from hierbayes.density.layout import Layout
from hierbayes.density.nutpie_trace import draws_and_stats
from hierbayes.density.rescue import SAMPLING_NOTES, fixed_start, rescue
from hierbayes.density.start import starting_points

__all__ = ["CompiledDensity", "compile_density", "sample_density"]

_RAW = "x__"  # name of the stored unconstrained position


@dataclass(frozen=True)
class CompiledDensity:
    """A model ready for nutpie: its :class:`~hierbayes.density.layout.Layout` and nutpie's
    model object around the cached callbacks."""

    layout: Layout
    nutpie_model: Any
    # nutpie's mass-matrix adaptation (hierbayes.density.adaptation)
    adaptation: str = "diag"


def compile_density(layout: Layout) -> CompiledDensity:
    """Wrap ``layout`` for ``nutpie.sample`` (no compilation: the callbacks are cached).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> compiled = compile_density(make_layout(m.design, m.prior_values, m.parameterization))
    >>> compiled.nutpie_model.n_dim   # Intercept, Days, 2 SDs, 1 correlation, sigma
    6
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    n = layout.n_dim
    logp_callback, expand_callback = callbacks()
    # the population part at its penalised mode, jittered on its own scale (density.start); the
    # non-centred effects nudged where nutpie's first mass matrix fits them (density.first_scale)
    initial_point = FlooredStart(layout, starting_points(layout).draw, standardised_effects(layout))

    model = CompiledPyMCModel(
        dims={_RAW: (f"{_RAW}dim",)},
        _n_dim=n,
        _coords={f"{_RAW}dim": np.arange(n)},
        _shapes={_RAW: (n,)},
        compiled_logp_func=logp_callback,
        compiled_expand_func=expand_callback,
        initial_point_func=initial_point,
        shared_data={str(k): a for k, a in enumerate(layout.arrays)},
        shared_var_keys={},
        user_data=layout.table,
        n_expanded=n,
        shape_info=([_RAW], [slice(0, n)], [(n,)]),
        logp_func=None,
        expand_func=None,
    )
    return CompiledDensity(layout, model)


def sample_density(
    compiled: CompiledDensity,
    *,
    draws: int,
    tune: int,
    chains: int,
    cores: int | None,
    random_seed: int | None,
    target_accept: float,
    progressbar: bool,
) -> tuple[xr.Dataset, xr.Dataset, float]:
    """Run nutpie; return the labelled posterior, the sampler statistics and the sampling time.

    The same ``random_seed`` gives the same draws (for a given chain count and machine). A
    chain whose log-density stays far below the others' runs again from another chain's state
    (:mod:`hierbayes.density.rescue`); the posterior's ``attrs["sampling_notes"]`` then says so.
    """
    import nutpie

    seed = random_seed if random_seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    start = time.time()
    result = nutpie.sample(
        compiled.nutpie_model,
        draws=draws,
        tune=max(tune, 1),
        chains=chains,
        seed=seed,
        save_warmup=False,
        progress_bar=progressbar,
        target_accept=target_accept,
        adaptation=compiled.adaptation,
        cores=cores if cores is not None else min(4, os.cpu_count() or 1),
        return_raw_trace=True,  # the draws after tuning only (hierbayes.density.nutpie_trace)
    )
    raw, stats = _raw_and_stats(result)

    def run_chain(start_at: np.ndarray, chain: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        again = nutpie.sample(
            fixed_start(compiled.nutpie_model, start_at),
            draws=draws,
            tune=max(tune, 1),
            chains=1,
            seed=(seed + 1 + chain) % 2**63,
            save_warmup=False,
            progress_bar=progressbar,
            target_accept=target_accept,
            adaptation=compiled.adaptation,
            cores=1,
            return_raw_trace=True,
        )
        one_raw, one_stats = _raw_and_stats(again)
        return one_raw[0], {v: one_stats[v].values[0] for v in one_stats.data_vars}

    # a chain trapped far below the others' log-density runs again from a good chain's state
    raw, new_stats, notes = rescue(raw, stats["logp"].values, run_chain)
    for chain, values in new_stats.items():
        for v, column in values.items():
            if v in stats:
                stats[v][chain] = column.astype(stats[v].dtype, copy=False)
    elapsed = time.time() - start
    posterior = posterior_dataset(compiled.layout, raw)
    if notes:
        posterior.attrs[SAMPLING_NOTES] = "\n".join(notes)
    if compiled.layout.arrays[0][M_LAP_Q] > 0:  # effects integrated out by Laplace: draw them
        posterior = complete_laplace(compiled.layout, raw, posterior, seed)
    return posterior, stats, elapsed


def _raw_and_stats(result: Any) -> tuple[np.ndarray, xr.Dataset]:
    """The unconstrained draws (chains x draws x dimensions) and the per-draw statistics of
    nutpie's raw trace."""
    import nutpie

    raw, stats = draws_and_stats(result, _RAW)
    stats.attrs.update(inference_library="nutpie", inference_library_version=nutpie.__version__)
    return raw, stats
