# Reference fit of the cumulative family with the probit link on ordinal's wine data (Randall
# 1989): rating (5 ordered categories) ~ temp + contact + (1 | judge), 72 rows, 9 judges.
# ordinal::clmm (Laplace, ML), link = "probit" (brms's cumulative("probit")).
# Run: Rscript tests/reference_cumulative_probit.R   (numbers stored in
# tests/test_cumulative_probit_reference.py; tests/data/wine.csv comes from
# tests/reference_cumulative.R)
library(ordinal)
wine <- read.csv("tests/data/wine.csv")
wine$rating <- factor(wine$rating, ordered = TRUE)
wine$judge <- factor(wine$judge)
fm <- clmm(rating ~ temp + contact + (1 | judge), data = wine, link = "probit")
print(summary(fm))
se <- sqrt(diag(vcov(fm)))
cat("clmm_beta =", sprintf("%.6f", fm$beta), "\n")
cat("clmm_se =", sprintf("%.6f", se[c("tempwarm", "contactyes")]), "\n")
cat("clmm_cut =", sprintf("%.6f", fm$alpha), "\n")
cat("clmm_cut_se =", sprintf("%.6f", se[1:4]), "\n")
cat("clmm_sd_judge =", sprintf("%.6f", fm$ST[[1]][1, 1]), "\n")
cat("clmm_loglik =", sprintf("%.6f", logLik(fm)), "\n")
# without the judges: clm's ML estimates and log-likelihood (exact: no integral)
f0 <- clm(rating ~ temp + contact, data = wine, link = "probit")
cat("clm_beta =", sprintf("%.8f", f0$beta), "\n")
cat("clm_cut =", sprintf("%.8f", f0$alpha), "\n")
cat("clm_loglik =", sprintf("%.8f", logLik(f0)), "\n")
