# Reference values for tests/build/test_glm_choice_separation.py: HSAUR3's toenail data (1,908
# visits of 294 patients; outcome moderate or severe onycholysis, 0/1), lme4's glmer with
# 25-point adaptive Gauss-Hermite quadrature.
# Run: Rscript tests/reference_toenail.R   (writes tests/data/toenail.csv)
suppressPackageStartupMessages({library(lme4); library(HSAUR3)})
t <- HSAUR3::toenail
d <- data.frame(y = as.integer(t$outcome == "moderate or severe"),
                treatment = as.character(t$treatment), visit = t$visit,
                patientID = as.character(t$patientID))
write.csv(d, "tests/data/toenail.csv", row.names = FALSE)
m <- glmer(y ~ treatment * visit + (1 | patientID), data = d, family = binomial, nAGQ = 25)
show <- function(label, x) cat(sprintf("%-9s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
show("fixef", fixef(m)); show("se", sqrt(diag(as.matrix(vcov(m)))))
show("sd", c(patientID = attr(VarCorr(m)$patientID, "stddev")))
