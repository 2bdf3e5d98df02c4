# Reference values for tests/test_offset_reference.py: a poisson GLMM with an offset on real data
# (Mmmec, mlmRev: melanoma deaths by county, with the expected deaths as exposure).
# Run: Rscript tests/reference_offset.R   (writes tests/data/mmmec.csv and prints the numbers)
suppressPackageStartupMessages({library(lme4); library(glmmTMB); library(mlmRev)})
data(Mmmec)
d <- data.frame(deaths = Mmmec$deaths, expected = Mmmec$expected, uvb = Mmmec$uvb,
                region = as.character(Mmmec$region), nation = as.character(Mmmec$nation))
write.csv(d, "tests/data/mmmec.csv", row.names = FALSE)
m <- glmer(deaths ~ uvb + offset(log(expected)) + (1 | region), family = poisson, data = d,
           nAGQ = 1)
print(summary(m))
cat(sprintf("lme4    fixef %.6f %.6f  se %.6f %.6f  sd_region %.6f\n",
            fixef(m)[1], fixef(m)[2], sqrt(diag(vcov(m)))[1], sqrt(diag(vcov(m)))[2],
            attr(VarCorr(m)$region, "stddev")))
t <- glmmTMB(deaths ~ uvb + offset(log(expected)) + (1 | region), family = poisson, data = d)
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_region %.6f\n",
            fixef(t)$cond[1], fixef(t)$cond[2], sqrt(diag(vcov(t)$cond))[1],
            sqrt(diag(vcov(t)$cond))[2], attr(VarCorr(t)$cond$region, "stddev")))
# the same model with the offset as log(expected) in a column (hierbayes's offset= argument)
d$logexp <- log(d$expected)
m2 <- glmer(deaths ~ uvb + (1 | region), offset = logexp, family = poisson, data = d)
cat(sprintf("lme4 offset= fixef %.6f %.6f\n", fixef(m2)[1], fixef(m2)[2]))
