"""A note when a correlated varying slope's predictor lies far from 0.

In ``(1 + age | Subject)`` the varying intercept is each subject's value at ``age = 0``. lme4's
REML estimates do not depend on where 0 is, but the default priors do: the SD of the intercept
(``HalfNormal``) and the ``LKJ(2)`` correlation act at ``age = 0``, which for nlme's Orthodont
(ages 8-14) lies far outside the data, where the intercept-slope correlation is strong (REML
-0.67): the posterior's correlation is -0.09 (SD 0.42) and the intercept SD 1.65 (SD 0.68)
against REML's 2.40. With ``age - 11`` they agree with REML within 0.4 posterior SD. The note
says so. It is about the priors only: the sampler's geometry is handled, as a sampled term with
such a slope is sampled at the slope's centre (a pure reparameterisation,
:mod:`hierbayes.density.shear`), which removed the divergences of MASS's OME ``(1 + Loud | ID)``
(Loud 35-65) that centring used to be needed for.
"""

from __future__ import annotations

import numpy as np

from hierbayes.design import Design

__all__ = ["FAR", "uncentred_slope_notes"]

FAR = 3.0
"""A predictor whose mean is more than this many SDs from 0 counts as far from 0."""


def uncentred_slope_notes(design: Design) -> tuple[str, ...]:
    """One note per correlated group term with an intercept and a continuous varying slope
    whose mean lies more than :data:`FAR` SDs from 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"y": rng.normal(size=40), "age": np.tile([8, 10, 12, 14], 10),
    ...                   "g": np.repeat(list("abcdefghij"), 4)})
    >>> uncentred_slope_notes(make_design(parse_formula("y ~ age + (1 + age | g)"), d))[0][:47]
    'Across g, the varying intercept is at age = 0, '
    >>> d["age"] = d["age"] - 11
    >>> uncentred_slope_notes(make_design(parse_formula("y ~ age + (1 + age | g)"), d))
    ()
    """
    notes = []
    for block in design.blocks:
        if not block.term.correlated or "Intercept" not in block.columns:
            continue
        for k, name in enumerate(block.columns):
            z = np.asarray(block.Z[:, k], dtype=float)
            if name == "Intercept" or len(np.unique(z)) <= 2:
                continue  # a 0/1 column's 0 is a level of the data
            mean, sd = float(np.mean(z)), float(np.std(z))
            if sd > 0 and abs(mean) > FAR * sd:
                notes.append(
                    f"Across {block.factor}, the varying intercept is at {name} = 0, "
                    f"{abs(mean) / sd:.1f} SDs from the mean of {name} ({mean:.3g}): the priors of "
                    "its SD and of the correlation act there, far from the data, so the "
                    "model differs from the one with a centred column (the sampler itself works "
                    f"at the centre). Centre it (a column {name} - {mean:.3g}) unless 0 is meant."
                )
    return tuple(notes)
