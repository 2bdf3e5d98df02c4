# Reference values for tests/test_dispersion_reference.py: a negative binomial whose shape varies
# (glmmTMB's `dispformula = ~ mined`, brms's `shape ~ mined`) on glmmTMB's Salamanders counts
# (tests/data/salamanders.csv, written by tests/reference_negativebinomial.R).
# glmmTMB's nbinom2 dispersion parameter is the shape (its variance mu + mu^2/theta) and
# dispformula models log(theta): hierbayes's log shape_i = shape_Intercept + shape_mined.
# Run: Rscript tests/reference_dispersion.R   (seconds)
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("tests/data/salamanders.csv")
m <- glmmTMB(count ~ mined + (1 | site), dispformula = ~ mined, family = nbinom2, data = d)
print(summary(m))
se <- function(v) sqrt(diag(v))
cat(sprintf("cond %.6f %.6f  se %.6f %.6f\n", fixef(m)$cond[1], fixef(m)$cond[2],
            se(vcov(m)$cond)[1], se(vcov(m)$cond)[2]))
cat(sprintf("disp %.6f %.6f  se %.6f %.6f\n", fixef(m)$disp[1], fixef(m)$disp[2],
            se(vcov(m)$disp)[1], se(vcov(m)$disp)[2]))
cat(sprintf("sd_site %.6f\n", attr(VarCorr(m)$cond$site, "stddev")))
