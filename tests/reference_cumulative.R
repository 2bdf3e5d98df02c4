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
if (Sys.getenv("WITH_BRMS") == "1") {
  # brms's defaults: flat priors on b, student_t(3, 0, 2.5) on the (centred) cut-points and on
  # the judge SD
  library(brms)
  b <- brm(rating ~ temp + contact + (1 | judge), data = wine, family = cumulative("logit"),
           chains = 4, iter = 6000, warmup = 1000, seed = 1, refresh = 0)
  d <- as_draws_df(b)
  vars <- c("b_Intercept[1]", "b_Intercept[2]", "b_Intercept[3]", "b_Intercept[4]",
            "b_tempwarm", "b_contactyes", "sd_judge__Intercept")
  cat("brms_mean =", sprintf("%.4f", sapply(vars, function(v) mean(d[[v]]))), "\n")
  cat("brms_sd =", sprintf("%.4f", sapply(vars, function(v) sd(d[[v]]))), "\n")
  cat("brms_median_sd_judge =", sprintf("%.4f", median(d[["sd_judge__Intercept"]])), "\n")
  cat("brms_ess_bulk =", sprintf("%.0f", summary(b)$fixed$Bulk_ESS), "\n")
}
