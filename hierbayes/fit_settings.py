"""The sampler settings of a ``fit()`` call, checked and resolved once for every kind of model."""

from __future__ import annotations

from typing import Any

from hierbayes.build.settings import default_target_accept
from hierbayes.design import Design
from hierbayes.inference import check_settings
from hierbayes.progress import resolve_progressbar
from hierbayes.validate import check_fit_arguments

__all__ = ["fit_settings"]


def fit_settings(
    design: Design,
    parameterization: dict[str, tuple[str, ...]],
    *,
    draws: Any,
    tune: Any,
    chains: Any,
    cores: Any,
    random_seed: Any,
    sampler: str,
    target_accept: float | None,
    progressbar: bool | None,
    log_likelihood: bool | None,
) -> tuple[dict[str, Any], bool]:
    """The checked keyword arguments of the sampler, and whether its target acceptance may be
    raised after divergences (only when the caller left the default, which depends on the
    design and parameterisation: :func:`hierbayes.build.settings.default_target_accept`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> settings, raise_target = fit_settings(
    ...     m.design, m.parameterization, draws=200, tune=100, chains=2, cores=None,
    ...     random_seed=1, sampler="nutpie", target_accept=0.9, progressbar=False,
    ...     log_likelihood=None)
    >>> settings["draws"], settings["target_accept"], raise_target
    (200, 0.9, False)
    """
    raise_target = target_accept is None  # the default may be raised after divergences
    if target_accept is None:
        target_accept = default_target_accept(design, parameterization)
    settings = check_fit_arguments(
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=random_seed,
        sampler=sampler,
        target_accept=target_accept,
        progressbar=progressbar,
        log_likelihood=log_likelihood,
    )
    check_settings(
        sampler=sampler,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        target_accept=settings["target_accept"],
    )
    settings["progressbar"] = resolve_progressbar(progressbar)
    return settings, raise_target
