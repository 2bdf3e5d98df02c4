"""Summaries: tidy tables of a fit, all labelled (term names, factors, group labels)."""

from hierbayes.summaries.cutpoints import cutpoints
from hierbayes.summaries.lines import group_lines
from hierbayes.summaries.pooling import pooling, shrinkage
from hierbayes.summaries.stats import hdi_columns, summarize
from hierbayes.summaries.summary import Summary, summary
from hierbayes.summaries.tables import coef, fixef, ranef, varcorr
from hierbayes.summaries.variance import icc, r2

__all__ = [
    "Summary",
    "coef",
    "cutpoints",
    "fixef",
    "group_lines",
    "hdi_columns",
    "icc",
    "pooling",
    "r2",
    "ranef",
    "shrinkage",
    "summarize",
    "summary",
    "varcorr",
]
