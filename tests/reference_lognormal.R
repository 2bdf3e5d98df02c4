# Reference values for tests/test_lognormal_reference.py: a lognormal mixed model on real data
# (lme4's sleepstudy reaction times). lognormal(meanlog = eta, sdlog = sigma) for y is the
# gaussian model of log(y), so the reference is glmmTMB's (maximum likelihood) gaussian fit of
# log(Reaction); glmmTMB's own lognormal family is parameterised by the mean and SD of y on the
# original scale, which is not brms's (or hierbayes's) parameterisation.
# Run: Rscript tests/reference_lognormal.R
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("hierbayes/datasets/data/sleepstudy.csv")
m <- glmmTMB(log(Reaction) ~ Days + (1 + Days | Subject), data = d)
print(summary(m))
sds <- attr(VarCorr(m)$cond$Subject, "stddev")
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_Subject %.6f %.6f  sigma %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], sds[1], sds[2], sigma(m)))
