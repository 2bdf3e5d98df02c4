"""Summaries: tidy tables of a fit, all labelled (term names, factors, group labels)."""

from hierbayes.summaries.stats import hdi_columns, summarize
from hierbayes.summaries.summary import Summary, summary
from hierbayes.summaries.tables import coef, fixef, ranef, varcorr

__all__ = ["Summary", "coef", "fixef", "hdi_columns", "ranef", "summarize", "summary", "varcorr"]
