# Reference values for tests/test_negativebinomial_reference.py: a negative binomial (NB2) GLMM
# on real data (glmmTMB's Salamanders: counts of salamanders at 23 sites, mined or not).
# Run: Rscript tests/reference_negativebinomial.R   (writes tests/data/salamanders.csv)
suppressPackageStartupMessages(library(glmmTMB))
data(Salamanders)
d <- data.frame(count = Salamanders$count, mined = as.character(Salamanders$mined),
                spp = as.character(Salamanders$spp), site = as.character(Salamanders$site))
write.csv(d, "tests/data/salamanders.csv", row.names = FALSE)
m <- glmmTMB(count ~ mined + (1 | site), family = nbinom2, data = d)
print(summary(m))
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_site %.6f  shape %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], attr(VarCorr(m)$cond$site, "stddev"), sigma(m)))
