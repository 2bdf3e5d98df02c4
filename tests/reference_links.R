# Reference values for tests/test_links_reference.py: probit and cloglog GLMMs on real data,
# fitted by lme4's glmer (Laplace approximation, the default nAGQ = 1).
#   cbpp (lme4): cbind(incidence, size - incidence) ~ period + (1 | herd), binomial
#   Contraception (mlmRev): use ~ urban + age + livch + (1 | district), bernoulli
# Run: Rscript tests/reference_links.R   (writes tests/data/contraception.csv)
suppressPackageStartupMessages({library(lme4); library(mlmRev)})
data(Contraception, package = "mlmRev")
d <- data.frame(use = as.integer(Contraception$use == "Y"),
                urban = as.character(Contraception$urban), age = Contraception$age,
                livch = as.character(Contraception$livch),
                district = as.character(Contraception$district))
write.csv(d, "tests/data/contraception.csv", row.names = FALSE)
show <- function(m, label) {
  b <- fixef(m); se <- sqrt(diag(vcov(m)))
  cat(label, "\n")
  cat("  fixef", paste(sprintf("'%s': %.6f", names(b), b), collapse = ", "), "\n")
  cat("  se   ", paste(sprintf("'%s': %.6f", names(b), se), collapse = ", "), "\n")
  cat(sprintf("  sd %.6f  logLik %.6f\n", attr(VarCorr(m)[[1]], "stddev"), logLik(m)))
}
for (link in c("probit", "cloglog")) {
  m <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp,
             family = binomial(link = link))
  show(m, paste("cbpp", link))
  m <- glmer(use ~ urban + age + livch + (1 | district), d, family = binomial(link = link))
  show(m, paste("Contraception", link))
}
