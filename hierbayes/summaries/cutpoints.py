"""The cut-points of an ordinal (cumulative) model as a table, as ``fixef`` shows effects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["cutpoints"]


def cutpoints(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Posterior summary of each cut-point ``c_k`` of the model as written (``logit P(y ≤ k) =
    c_k - η``; ordinal's thresholds, brms's ``b_Intercept[k]``), indexed ``cutpoint[1|2]``, ...

    An empty table for families without cut-points.

    Examples
    --------
    >>> import hierbayes as hb
    >>> hb.summaries.cutpoints(fit)  # an ordinal model's fit  # doctest: +SKIP
    """
    posterior = fit.idata["posterior"]
    if not fit.design.family.cutpoints or "cutpoints" not in posterior:
        return pd.DataFrame()
    table = summarize(posterior["cutpoints"], prob=prob, diagnostics=True)
    table.index = pd.Index([f"cutpoint[{c}]" for c in table.pop("cutpoint")], name="term")
    return table
