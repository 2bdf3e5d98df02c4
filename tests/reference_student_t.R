# Reference values for tests/test_student_t_reference.py: a Student-t linear mixed model on real
# data (lme4's sleepstudy: reaction times of 18 subjects over 10 days of sleep deprivation), fitted
# by maximum likelihood with glmmTMB's t_family (scale sigma and degrees of freedom estimated).
# Run: Rscript tests/reference_student_t.R
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("hierbayes/datasets/data/sleepstudy.csv")
m <- glmmTMB(Reaction ~ Days + (1 + Days | Subject), family = t_family, data = d)
print(summary(m))
sds <- attr(VarCorr(m)$cond$Subject, "stddev")
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_Subject %.6f %.6f  sigma %.6f  nu %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], sds[1], sds[2], sigma(m), family_params(m)))
