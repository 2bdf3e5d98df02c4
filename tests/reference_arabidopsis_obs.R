# Reference values for tests/build/test_observation_laplace.py: lme4's Arabidopsis (625 plants of
# 24 genotypes `gen` nested in 9 populations `popu`; fruit counts, 20% zeros) as a poisson GLMM
# with an observation-level effect (one level of `obs` per plant) for the overdispersion.
# Run: Rscript tests/reference_arabidopsis_obs.R   (reads tests/data/arabidopsis.csv)
suppressPackageStartupMessages(library(glmmTMB))
d <- read.csv("tests/data/arabidopsis.csv", colClasses = c(nutrient = "character",
              rack = "character", popu = "character", gen = "character"))
d$obs <- as.character(seq_len(nrow(d)))
m <- glmmTMB(total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen) + (1 | obs),
             family = poisson, data = d)
show <- function(label, x) cat(sprintf("%-9s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
show("fixef", fixef(m)$cond); show("se", sqrt(diag(vcov(m)$cond)))
vc <- VarCorr(m)$cond
show("sd", c(popu = attr(vc$popu, "stddev"), gen = attr(vc$gen, "stddev"), obs = attr(vc$obs, "stddev")))
