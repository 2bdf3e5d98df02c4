"""Find chains stuck far below the others' log-density and run them again from a good chain's
state.

A chain that starts where the log-density is astronomically low (a Poisson rate of ``e^30``)
can adapt its step size to nothing and stay there for the whole run: its log-density sits
orders of magnitude below the other chains', where a chain exploring the same posterior would be
within a few of their SDs. :func:`stuck_chains` finds such chains from the sampler's ``logp``
statistic; :func:`rescue` runs each one again, tuning included, from the last draw of the chain
most typical of the rest, and says so (the message lands in ``fit.summary()``'s diagnostics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ["SAMPLING_NOTES", "STUCK_LOGP_SDS", "fixed_start", "rescue", "stuck_chains"]

# attribute of the posterior that says what sampling did beyond the plain run (one per line)
SAMPLING_NOTES = "sampling_notes"

# a chain is stuck when its median log-density is this many log-density SDs below the median
# chain's (chains that explore one posterior differ by about SD / sqrt(ESS))
STUCK_LOGP_SDS = 10.0


def stuck_chains(logp: np.ndarray) -> list[int]:
    """Chains (rows of ``logp``, chains x draws) whose median log-density lies more than
    :data:`STUCK_LOGP_SDS` typical within-chain SDs (at least 10 in all) below the median
    chain's.

    The median chain is the reference, so a minority of chains is flagged; a chain stuck
    *above* the others (a funnel's neck) is not flagged here: R-hat reports it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> lp = -1500 + 20 * rng.standard_normal((4, 200))
    >>> stuck_chains(lp)
    []
    >>> lp[2] = -1.9e15
    >>> stuck_chains(lp)
    [2]
    """
    logp = np.asarray(logp, dtype=float)
    if logp.ndim != 2 or logp.shape[0] < 2:
        return []
    finite = np.where(np.isfinite(logp), logp, -np.inf)
    medians = np.median(finite, axis=1)
    q75, q25 = np.percentile(logp, [75, 25], axis=1)
    spread = float(np.nanmedian((q75 - q25) / 1.349))
    threshold = max(STUCK_LOGP_SDS * (spread if np.isfinite(spread) else 0.0), 10.0)
    reference = float(np.median(medians))
    return [int(c) for c in np.flatnonzero(medians < reference - threshold)]


def rescue(
    raw: np.ndarray,
    logp: np.ndarray,
    run_chain: Callable[[np.ndarray, int], tuple[np.ndarray, dict[str, np.ndarray]]],
) -> tuple[np.ndarray, dict[int, dict[str, np.ndarray]], list[str]]:
    """Run each stuck chain again from the last draw of the chain closest to the median one.

    Parameters
    ----------
    raw : ndarray
        Draws, chains x draws x dimensions.
    logp : ndarray
        Log-density of each draw, chains x draws.
    run_chain : callable
        ``run_chain(start, chain)`` runs one chain (tuning included) from ``start``; returns its
        draws (draws x dimensions) and its sampler statistics by name (each of length draws).

    Returns
    -------
    raw : ndarray
        The draws with the stuck chains replaced.
    stats : dict
        Chain -> the new chain's statistics.
    notes : list of str
        What was done, in words; also what could not be mended.

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.zeros((3, 4, 1)); raw[1] = 50.0
    >>> lp = -0.5 * raw[..., 0] ** 2 + np.array([0.0, 1.0, -1.0, 0.5]) * 3
    >>> new, stats, notes = rescue(raw, lp, lambda start, c: (np.repeat(start[None], 4, 0),
    ...                                                      {"logp": np.zeros(4)}))
    >>> new[1, :, 0].tolist(), sorted(stats)
    ([0.0, 0.0, 0.0, 0.0], [1])
    >>> print(notes[0][:59])
    Chain 2 of 3 started where the log-density is far below the
    """
    stuck = stuck_chains(logp)
    if not stuck:
        return raw, {}, []
    good = [c for c in range(raw.shape[0]) if c not in stuck]
    medians = np.median(logp, axis=1)
    reference = float(np.median(medians))
    donor = min(good, key=lambda c: abs(medians[c] - reference))
    raw = raw.copy()
    new_stats: dict[int, dict[str, np.ndarray]] = {}
    notes = []
    for c in stuck:
        draws, stats = run_chain(raw[donor, -1], c)
        raw[c] = draws
        new_stats[c] = stats
        before = float(medians[c])
        after = float(np.median(stats["logp"])) if "logp" in stats else float("nan")
        notes.append(
            f"Chain {c + 1} of {raw.shape[0]} started where the log-density is far below the "
            f"other chains' (median {before:.4g} against {reference:.4g}) and stayed there, so "
            f"it was run again, tuning included, from the last draw of chain {donor + 1} "
            f"(median log-density now {after:.4g})."
        )
    after_logp = np.array(logp, dtype=float)
    for c, stats in new_stats.items():
        if "logp" in stats:
            after_logp[c] = stats["logp"]
    still = [c for c in stuck_chains(after_logp) if c in new_stats]
    for c in still:
        notes.append(
            f"Chain {c + 1} still sits far below the others' log-density after a restart: the "
            "posterior may have a second mode, or the model needs a parameterization that "
            "NUTS can follow; try parameterization='noncentered' or more informative priors."
        )
    return raw, new_stats, notes


def fixed_start(model: object, start: np.ndarray) -> object:
    """nutpie's model object (a dataclass) starting every chain at ``start``."""
    point = np.array(start, dtype=float)
    return dataclasses.replace(model, initial_point_func=lambda seed: point.copy())
