# lme4 REML reference for the Pastes data (10 batches x 3 casks x 2 samples).
# Run: Rscript tests/build/pastes_lme4.R  -> writes tests/build/pastes.csv, prints the estimates
# used in tests/build/test_nested.py.
library(lme4)
write.csv(Pastes[, c("strength", "batch", "cask", "sample")], "tests/build/pastes.csv",
          row.names = FALSE)
m <- lmer(strength ~ 1 + (1 | batch/cask), data = Pastes, REML = TRUE)
print(summary(m))
vc <- as.data.frame(VarCorr(m))
print(vc, digits = 10)
print(fixef(m), digits = 10)
print(sqrt(diag(vcov(m))), digits = 10)
