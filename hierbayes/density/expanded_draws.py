"""The parameter-expanded SDs (:mod:`hierbayes.density.expanded`) outside the kernel: which priors
allow them, where their chains start, and their draws as the model's variables.

Examples
--------
>>> import numpy as np
>>> scale, sign = signed_scales(np.array([[np.log(0.5), -0.3]]), ("noncentered", "expanded"))
>>> scale.round(2).tolist(), sign.tolist()
([[0.5, -0.3]], [[1.0, -1.0]])
"""

from __future__ import annotations

import numpy as np

from hierbayes.density import codes as K

__all__ = [
    "CHOICE_CODES",
    "EXPANDABLE",
    "SAMPLED_ONLY",
    "expandable",
    "expanded_variables",
    "signed_scales",
    "start_values",
]

CHOICE_CODES = {"noncentered": 0, "centered": 1, "expanded": K.EXPANDED, "partial": K.PARTIAL}
"""The kernel's code of each choice of a sampled coefficient (``P_CHOICE``)."""
SAMPLED_ONLY = ("s|", "zs|")
"""Prefixes of the expanded terms' sampled coordinates, which the posterior leaves out: their
signs are arbitrary (``(s, z)`` and ``(-s, -z)`` are the same model); ``sd`` and ``z`` hold what
they mean."""

EXPANDABLE = frozenset({K.HALF_NORMAL, K.HALF_STUDENT_T, K.HALF_CAUCHY, K.EXPONENTIAL, K.HALF_FLAT})
"""Codes of the SD priors with a finite, positive density at 0: their symmetric extension to a
signed scale is a proper continuous density on the real line (a gamma, inverse gamma, log-normal
or Weibull prior vanishes at 0 or has no finite density there)."""


def expandable(sd_rows: np.ndarray) -> bool:
    """Whether every prior row of a term's SDs (``q x 4``: code, a, b, c) allows the expanded
    form."""
    return all(int(code) in EXPANDABLE for code in np.asarray(sd_rows)[:, 0])


def start_values(log_centre: np.ndarray, choice: tuple[str, ...]) -> np.ndarray:
    """Centres of a term's SD coordinates: ``log sd`` as given, the SD itself for an expanded
    coefficient (a positive ``s``)."""
    expanded = np.array([c == "expanded" for c in choice])
    return np.where(expanded, np.exp(log_centre), log_centre)


def signed_scales(values: np.ndarray, choice: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The signed scale (``L_kk``) of each coefficient from its sampled coordinates (S, q), and
    the sign that turns the sampled ``z`` into ``u / sd``: ``exp`` of ``log sd`` (sign 1), or
    ``s`` itself (sign of ``s``) for an expanded coefficient."""
    expanded = np.array([c == "expanded" for c in choice], dtype=bool)
    scale = np.where(expanded, values, np.exp(np.where(expanded, 0.0, values)))
    sign = np.where(expanded & (values < 0), -1.0, 1.0)
    return scale, sign


def expanded_variables(
    name: str, s: np.ndarray, z: np.ndarray, sign: np.ndarray
) -> dict[str, np.ndarray]:
    """The variables of an expanded term ``name`` besides ``sd`` and ``u``: its sampled signed
    scales ``s|name`` (S, q) and standardised effects ``zs|name`` (S, J, q), and ``z|name``,
    each group's effect over the SD (``sign(s) zs``, the non-centred model's ``z``)."""
    return {f"s|{name}": s, f"zs|{name}": z, f"z|{name}": z * sign[:, None, :]}
