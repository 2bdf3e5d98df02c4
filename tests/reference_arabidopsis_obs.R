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

# Rscript tests/reference_arabidopsis_obs.R brms: brms (non-centred everywhere) with hierbayes's
# default priors for this model, 4 x 1000 after 1000 warm-up, seed 1. Measured (load 12): R-hat
# up to 1.036, min bulk ESS 303 (sd(gen) 312), 1 divergence; sd popu 1.02 (0.34), gen 0.31
# (0.13), obs 1.45 (0.05), fixed effects within 0.1 posterior SD of hierbayes's joint Laplace.
if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  suppressPackageStartupMessages(library(brms))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 4.997), class = b, coef = nutrient8),
         prior(normal(0, 4.998), class = b, coef = amdunclipped),
         prior(normal(0, 4.998), class = b, coef = rack2),
         prior(normal(0, 7.082), class = b, coef = statusPetri.Plate),
         prior(normal(0, 5.76), class = b, coef = statusTransplant),
         prior(normal(0, 5.712), class = b, coef = nutrient8:amdunclipped),
         prior(normal(0, 2.5), class = sd))
  fb <- brm(total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen) + (1 | obs),
            data = d, family = poisson, prior = p, chains = 4, iter = 2000, warmup = 1000,
            cores = 2, seed = 1, refresh = 0)
  s <- summary(fb)
  print(s)
  np <- nuts_params(fb)
  cat("divergences", sum(np$Value[np$Parameter == "divergent__"]), "\n")
}
