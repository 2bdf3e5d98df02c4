# REML reference for tests/build/test_nested_reference.py: mlmRev's egsingle (7,230 yearly maths
# scores of 1,721 pupils in 60 schools, a three-level nested design) with lme4.
# Run from the repository root: Rscript tests/reference_nested_egsingle.R
suppressMessages({library(lme4); library(mlmRev)})
data(egsingle)
d <- egsingle[, c("schoolid", "childid", "year", "math")]
write.csv(d, "tests/data/egsingle.csv", row.names = FALSE)
f <- lmer(math ~ year + (1 + year | schoolid) + (1 | childid), data = d, REML = TRUE)
print(fixef(f), digits = 10)
print(as.data.frame(VarCorr(f)), digits = 10)
