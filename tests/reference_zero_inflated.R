# Reference values for tests/test_zero_inflated_reference.py: zero-inflated poisson and negative
# binomial (NB2) GLMMs on real data (glmmTMB's Salamanders, tests/data/salamanders.csv, written by
# tests/reference_negativebinomial.R), glmmTMB's own zero-inflation example:
# count ~ spp + mined + (1 | site) with a constant zero-inflation probability (zi = ~1).
# Run: Rscript tests/reference_zero_inflated.R
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("tests/data/salamanders.csv")
d$spp <- factor(d$spp, levels = sort(unique(d$spp)))
report <- function(m, label) {
  fe <- fixef(m)$cond
  se <- sqrt(diag(vcov(m)$cond))
  cat(label, "\n")
  cat("fixef", paste(sprintf("\"%s\": %.6f", names(fe), fe), collapse = ", "), "\n")
  cat("se   ", paste(sprintf("\"%s\": %.6f", names(se), se), collapse = ", "), "\n")
  zi <- fixef(m)$zi[1]
  cat(sprintf("sd_site %.6f  zi %.6f (logit %.6f, se %.6f)\n",
              attr(VarCorr(m)$cond$site, "stddev"), plogis(zi), zi, sqrt(vcov(m)$zi[1, 1])))
  if (family(m)$family == "nbinom2") cat(sprintf("shape %.6f\n", sigma(m)))
}
report(glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = poisson, data = d), "zip")
report(glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = nbinom2, data = d), "zinb")
# zinb's zi sits on the boundary 0: its profile deviance 2 (logLik(ML) - logLik(zi fixed))
m <- glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = nbinom2, data = d)
for (z in c(0.05, 0.1, 0.15)) {
  mz <- glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = nbinom2, data = d,
                start = list(betazi = qlogis(z)), map = list(betazi = factor(NA)))
  cat(sprintf("zinb profile deviance at zi = %.2f: %.6f\n", z, 2 * (logLik(m) - logLik(mz))))
}
