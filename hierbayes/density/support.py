"""Central values of prior rows on the unconstrained scale: where the sampler's starting points
are centred (:func:`hierbayes.density.layout.make_layout`)."""

from __future__ import annotations

import numpy as np

from hierbayes.density import codes as K

__all__ = ["support_point"]


def support_point(rows: np.ndarray, *, positive: bool) -> np.ndarray:
    """A central value of each prior row (on the unconstrained scale): the location of a real
    prior, the log of a positive prior's scale (or mean)."""
    out = np.zeros(len(rows))
    for k, (code, a, b, _) in enumerate(rows):
        if not positive:
            out[k] = (
                b if code == K.STUDENT_T else a if code in (K.NORMAL, K.LAPLACE, K.CAUCHY) else 0.0
            )
            continue
        scale = {
            K.HALF_NORMAL: a,
            K.HALF_CAUCHY: a,
            K.HALF_STUDENT_T: b,
            K.EXPONENTIAL: 1.0 / a if a > 0 else 1.0,
            K.GAMMA: a / b if b > 0 else 1.0,
            K.INVERSE_GAMMA: b / max(a - 1.0, 1.0),
            K.LOG_NORMAL: np.exp(a),
            K.WEIBULL: b,
        }.get(int(code), 1.0)
        out[k] = np.log(a / b) if code == K.BETA else np.log(scale)  # logit of the mean
    return out
