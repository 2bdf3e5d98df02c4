# Reference fits of the cumulative (ordinal logit) family on ordinal's wine data (Randall 1989):
# rating (5 ordered categories) ~ temp + contact + (1 | judge), 72 rows, 9 judges.
# ordinal::clmm (Laplace, ML) and brms::brm (cumulative("logit"), brms's default priors).
# Run: Rscript tests/reference_cumulative.R   (numbers stored in tests/test_cumulative_reference.py)
library(ordinal)
data(wine)
write.csv(wine[, c("rating", "temp", "contact", "bottle", "judge")], "tests/data/wine.csv",
          row.names = FALSE)
fm <- clmm(rating ~ temp + contact + (1 | judge), data = wine, link = "logit")
print(summary(fm))
cat("clmm_beta =", sprintf("%.6f", fm$beta), "\n")
cat("clmm_se =", sprintf("%.6f", sqrt(diag(vcov(fm)))[c("tempwarm", "contactyes")]), "\n")
cat("clmm_cut =", sprintf("%.6f", fm$alpha), "\n")
cat("clmm_cut_se =", sprintf("%.6f", sqrt(diag(vcov(fm)))[1:4]), "\n")
cat("clmm_sd_judge =", sprintf("%.6f", fm$ST[[1]][1, 1]), "\n")
cat("clmm_loglik =", sprintf("%.6f", logLik(fm)), "\n")
if (requireNamespace("brms", quietly = TRUE) && Sys.getenv("WITH_BRMS") == "1") {
  library(brms)
  b <- brm(rating ~ temp + contact + (1 | judge), data = wine, family = cumulative("logit"),
           chains = 4, iter = 2000, seed = 1, refresh = 0)
  s <- posterior_summary(b)
  print(s[1:8, ])
}
