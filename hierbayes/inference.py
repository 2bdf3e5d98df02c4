"""Sampling with NUTS: nutpie on the cached compiled log-density (:mod:`hierbayes.density`) by
default, or nutpie, PyMC or numpyro on the PyMC model of :mod:`hierbayes.build`."""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import warnings
from typing import Any, Literal

import numpy as np
import pymc as pm
import xarray as xr

from hierbayes.build.initvals import ordered_starts
from hierbayes.compile import compile_nutpie
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.density.sampler import CompiledDensity, sample_density
from hierbayes.errors import HierbayesError

__all__ = [
    "RAISED_TARGET_ACCEPT",
    "SAMPLERS",
    "Sampler",
    "check_settings",
    "sample",
    "sample_compiled",
]

Sampler = Literal["nutpie", "pymc", "numpyro"]
SAMPLERS: tuple[str, ...] = ("nutpie", "pymc", "numpyro")
DEFAULT_TARGET_ACCEPT = 0.8
# target_accept of the second run when the first, at the default target, diverged
RAISED_TARGET_ACCEPT = 0.95


def check_settings(
    *, sampler: str, draws: int, tune: int, chains: int, target_accept: float
) -> None:
    """Raise :class:`~hierbayes.errors.HierbayesError` for settings no sampler accepts."""
    if sampler not in SAMPLERS:
        raise HierbayesError(f"Unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}.")
    for name, value in (("draws", draws), ("chains", chains)):
        if not isinstance(value, int) or value < 1:
            raise HierbayesError(f"{name} must be a positive integer, got {value!r}.")
    if not isinstance(tune, int) or tune < 0:
        raise HierbayesError(f"tune must be a non-negative integer, got {tune!r}.")
    if not 0 < target_accept < 1:
        raise HierbayesError(f"target_accept must be between 0 and 1, got {target_accept!r}.")
    if sampler == "numpyro":
        missing = [m for m in ("jax", "numpyro") if importlib.util.find_spec(m) is None]
        if missing:
            raise HierbayesError(
                f"sampler='numpyro' needs {' and '.join(missing)}: install the optional extra with "
                "'pip install \"hierbayes[jax]\"' (or 'uv sync --extra jax')."
            )


def sample_compiled(
    compiled: CompiledDensity,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | None = None,
    target_accept: float = 0.8,
    progressbar: bool = False,
    raise_target: bool = False,
) -> xr.DataTree:
    """Draw from the posterior of a compiled log-density with nutpie.

    The same ``random_seed`` gives identical draws (for a given chain count and machine). With
    ``raise_target``, a run with divergent transitions is run again with ``target_accept``
    raised to :data:`RAISED_TARGET_ACCEPT`, and the posterior's ``attrs["sampling_notes"]``
    says so (``fit.summary()`` shows it).

    Returns
    -------
    xarray.DataTree
        With groups ``posterior`` (the model's named variables; ``attrs["sampling_time"]`` in
        seconds) and ``sample_stats``.
    """
    check_settings(
        sampler="nutpie", draws=draws, tune=tune, chains=chains, target_accept=target_accept
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        posterior, stats, elapsed = sample_density(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            progressbar=progressbar,
        )
    first = int(stats["diverging"].sum()) if "diverging" in stats else 0
    if raise_target and first and target_accept < RAISED_TARGET_ACCEPT:
        # smaller steps follow the curvature that diverged; the draws of the first run are
        # dropped, not mixed in
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            posterior, stats, again = sample_density(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=random_seed,
                target_accept=RAISED_TARGET_ACCEPT,
                progressbar=progressbar,
            )
        elapsed += again
        now = int(stats["diverging"].sum())
        notes = [n for n in [posterior.attrs.get(SAMPLING_NOTES, "")] if n]
        notes.append(
            f"The first run had {first} divergent transition{'s' if first > 1 else ''} at "
            f"target_accept={target_accept}; it was run again with target_accept="
            f"{RAISED_TARGET_ACCEPT} (smaller steps), with {now} divergent."
        )
        posterior.attrs[SAMPLING_NOTES] = "\n".join(notes)
        target_accept = RAISED_TARGET_ACCEPT
    attrs = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "inference_library": "nutpie",
        "sampling_time": elapsed,
        "tuning_steps": tune,
    }
    posterior.attrs.update(attrs)
    stats.attrs.update(attrs)
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def sample(
    model: pm.Model,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | None = None,
    sampler: str = "nutpie",
    target_accept: float = 0.8,
    progressbar: bool = False,
    compiled: Any = None,
) -> xr.DataTree:
    """Draw from the posterior of the PyMC model ``model``.

    ``compiled`` (nutpie only) is ``compile_nutpie(model)`` from an earlier call, to skip
    compiling again when the same model is sampled again.

    The same ``random_seed`` gives identical draws (for a given sampler, chain count and machine).

    ``sampler="numpyro"`` runs NUTS in JAX (on a GPU when JAX sees one; chains are vectorised on
    one device). It needs the optional extra: ``pip install "hierbayes[jax]"`` or
    ``uv sync --extra jax``.

    Returns
    -------
    xarray.DataTree
        With groups ``posterior`` and ``sample_stats`` (and ``observed_data`` when the model has
        an observed variable).
    """
    check_settings(
        sampler=sampler, draws=draws, tune=tune, chains=chains, target_accept=target_accept
    )
    kwargs: dict[str, Any] = {}
    if sampler == "numpyro":
        kwargs["nuts"] = {"target_accept": target_accept, "chain_method": "vectorized"}
    elif sampler == "pymc":
        kwargs["target_accept"] = target_accept
    if sampler != "nutpie" and ordered_starts(model):  # an ordinal model's cut-points
        kwargs["initvals"] = ordered_starts(model)
    pymc_logger = logging.getLogger("pymc")
    level = pymc_logger.level
    pymc_logger.setLevel(logging.ERROR)
    try:
        with model, warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            if sampler == "nutpie":
                idata = _sample_nutpie(
                    compiled if compiled is not None else compile_nutpie(model),
                    model,
                    draws,
                    tune,
                    chains,
                    cores,
                    random_seed,
                    target_accept,
                    progressbar,
                )
            else:
                idata = pm.sample(
                    draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=random_seed,
                    nuts_sampler=sampler,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                    **kwargs,
                )
    finally:
        pymc_logger.setLevel(level)
    return idata


def _sample_nutpie(
    compiled: Any,
    model: pm.Model,
    draws: int,
    tune: int,
    chains: int,
    cores: int | None,
    random_seed: int | None,
    target_accept: float,
    progressbar: bool,
) -> xr.DataTree:
    """nutpie on a :func:`hierbayes.compile.compile_nutpie` model; returns what ``pm.sample``
    would."""
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    seed = random_seed if random_seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    # as pm.sample: chains in parallel on up to 4 cores unless told otherwise
    extra = {"cores": cores if cores is not None else min(4, os.cpu_count() or 1)}
    start = time.time()
    idata = nutpie.sample(
        compiled,
        draws=draws,
        tune=max(tune, 1),
        chains=chains,
        seed=seed,
        save_warmup=False,
        progress_bar=progressbar,
        target_accept=target_accept,
        **extra,
    )
    patch_nutpie_idata(idata, model, sampling_time=time.time() - start)
    return idata
