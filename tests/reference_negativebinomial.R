# Reference values for tests/test_negativebinomial_reference.py: a negative binomial (NB2) GLMM
# on real data (glmmTMB's Salamanders: counts of salamanders at 23 sites, mined or not).
# Run: Rscript tests/reference_negativebinomial.R [brms]   (writes tests/data/salamanders.csv)
# With "brms" also count ~ mined + spp + (1 | site) (benchmarks/run.py's model) by brms 4 x 1000
# after 1000 warm-up, seed 1, with hierbayes's default priors written out as brms priors.
suppressPackageStartupMessages(library(glmmTMB))
data(Salamanders)
d <- data.frame(count = Salamanders$count, mined = as.character(Salamanders$mined),
                spp = as.character(Salamanders$spp), site = as.character(Salamanders$site))
write.csv(d, "tests/data/salamanders.csv", row.names = FALSE)
m <- glmmTMB(count ~ mined + (1 | site), family = nbinom2, data = d)
print(summary(m))
cat(sprintf("glmmTMB fixef %.6f %.6f  se %.6f %.6f  sd_site %.6f  shape %.6f\n",
            fixef(m)$cond[1], fixef(m)$cond[2], sqrt(diag(vcov(m)$cond))[1],
            sqrt(diag(vcov(m)$cond))[2], attr(VarCorr(m)$cond$site, "stddev"), sigma(m)))

if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  suppressPackageStartupMessages(library(brms))
  show <- function(label, x) cat(sprintf("%-10s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 5.0008), class = b, coef = minedyes),
         prior(normal(0, 7.1388), class = b),
         prior(normal(0, 2.5), class = sd),
         prior(gamma(0.01, 0.01), class = shape))
  start <- Sys.time()
  fb <- brm(count ~ mined + spp + (1 | site), data = d, family = negbinomial, prior = p,
            chains = 4, iter = 2000, warmup = 1000, cores = 2, seed = 1, refresh = 0)
  cat("brms wall (s)", as.numeric(difftime(Sys.time(), start, units = "secs")), "\n")
  print(prior_summary(fb))
  post <- as_draws_df(fb)
  keep <- c(grep("^b_", names(post), value = TRUE), "sd_site__Intercept", "shape")
  show("brms mean", sapply(post[keep], mean)); show("brms sd", sapply(post[keep], sd))
  s <- summary(fb)
  print(s)
  cat("min bulk ESS", min(c(s$fixed$Bulk_ESS, s$random$site$Bulk_ESS, s$spec_pars$Bulk_ESS)), "\n")
  cat("divergences", sum(nuts_params(fb, pars = "divergent__")$Value), "\n")
}
