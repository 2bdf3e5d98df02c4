"""Agreement of a hierbayes fit with a brms fit of the same model and priors (issue #11's
table): every fixed effect within 0.15 of brms's posterior SD of its posterior mean, every
group SD's posterior mean within 10% of brms's, and a correlation within 0.15 of brms's
posterior SD. The brms numbers come from the R script named in each test module (brms 4 x 1000
after 1000 warm-up, seed 1, with hierbayes's default priors written out as brms priors).

Monte Carlo error: with bulk ESS n1 (hierbayes) and n2 (brms), the difference of two posterior
means has an SD of sqrt(1/n1 + 1/n2) posterior SDs, 0.045 at 1000 each and 0.06 at 400 and
1000, so 0.15 is 2.5 to 3.3 of those SDs; a group SD's mean has a relative Monte Carlo error of
(its posterior SD / its mean) / sqrt(n), under 1.5% for the SDs here.
"""

from __future__ import annotations

import hierbayes as hb

FIXED_SD = 0.15  # posterior SDs
GROUP_SD = 0.10  # relative


def gaps(
    fit: hb.Fit,
    fixed: dict[str, tuple[float, float]],
    sds: dict[tuple[str, str], float],
    cors: dict[tuple[str, str], tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Each parameter's gap to brms divided by its tolerance (all must be below 1): fixed
    effects and correlations in brms's posterior SDs over :data:`FIXED_SD`, group SDs relative
    over :data:`GROUP_SD`. ``sds`` and ``cors`` are keyed by (factor, term) as in
    :meth:`hierbayes.Fit.varcorr`."""
    out: dict[str, float] = {}
    table = fit.fixef()
    assert sorted(table.index) == sorted(fixed), "every fixed effect has a brms number"
    for term, (mean, sd) in fixed.items():
        out[f"b[{term}]"] = abs(table.loc[term, "mean"] - mean) / sd / FIXED_SD
    vc = fit.varcorr().set_index(["factor", "term", "stat"])["mean"]
    assert len(vc.xs("sd", level="stat")) == len(sds), "every group SD has a brms number"
    for (factor, term), mean in sds.items():
        out[f"sd|{factor}[{term}]"] = abs(vc[(factor, term, "sd")] / mean - 1) / GROUP_SD
    for (factor, term), (mean, sd) in (cors or {}).items():
        out[f"cor|{factor}[{term}]"] = abs(vc[(factor, term, "cor")] - mean) / sd / FIXED_SD
    return out


MIN_ESS = 400  # the tolerances' Monte Carlo error assumes at least this bulk ESS


def assert_agrees(fit: hb.Fit, *args, **kwargs) -> None:
    """:func:`gaps` all below 1, at a bulk ESS of at least :data:`MIN_ESS` on every
    population parameter; the message lists the gaps that are not."""
    assert fit.diagnostics.min_ess_bulk >= MIN_ESS, fit.diagnostics.min_ess_bulk
    worst = {k: round(v, 2) for k, v in gaps(fit, *args, **kwargs).items() if not v < 1}
    assert not worst, f"gap / tolerance: {worst}"
