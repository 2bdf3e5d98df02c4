# Reference numbers of tests/test_conditional_crossed.py: lme4's REML fit of mlmRev's ScotsSec
# (3,435 pupils' attainment, 148 primary schools crossed with 19 secondary schools), and the
# data file tests/data/scotssec.csv. Run from the repository root:
#   Rscript tests/reference_crossed_scotssec.R
suppressPackageStartupMessages(library(mlmRev))
data(ScotsSec)
d <- ScotsSec[, c("attain", "verbal", "sex", "primary", "second")]
write.csv(d, "tests/data/scotssec.csv", row.names = FALSE)
fit <- lmer(attain ~ verbal + sex + (1 | primary) + (1 | second), data = d, REML = TRUE)
print(summary(fit)$coefficients, digits = 10)
print(as.data.frame(VarCorr(fit))[, c("grp", "sdcor")], digits = 10)
