# Reference values for tests/test_beta_reference.py: a beta GLMM on real data (mlmRev's Gcsemv:
# GCSE written-paper scores, in percent, of 1905 pupils in 73 schools; the 1703 pupils with a
# written score, as a proportion in (0, 1); no score is 0 or 100).
# Run: Rscript tests/reference_beta.R   (writes tests/data/gcsemv.csv)
suppressPackageStartupMessages({library(glmmTMB); library(mlmRev)})
d <- Gcsemv[!is.na(Gcsemv$written), ]
d <- data.frame(written = d$written / 100, gender = as.character(d$gender),
                school = as.character(d$school))
write.csv(d, "tests/data/gcsemv.csv", row.names = FALSE)
m <- glmmTMB(written ~ gender + (1 | school), family = beta_family(), data = d)
print(summary(m))
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_school %.6f  phi %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], attr(VarCorr(m)$cond$school, "stddev"), sigma(m)))
