# Reference values for tests/test_gamma_reference.py: a gamma GLMM with log link on real data
# (lme4's sleepstudy reaction times, positive and right-skewed), fitted by maximum likelihood
# with glmmTMB's Gamma(link = "log"). glmmTMB's sigma is the coefficient of variation, so the
# shape is 1 / sigma^2.
# Run: Rscript tests/reference_gamma.R
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("hierbayes/datasets/data/sleepstudy.csv")
m <- glmmTMB(Reaction ~ Days + (1 + Days | Subject), family = Gamma(link = "log"), data = d)
print(summary(m))
sds <- attr(VarCorr(m)$cond$Subject, "stddev")
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_Subject %.6f %.6f  shape %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], sds[1], sds[2], 1 / sigma(m)^2))
