# Reference fits of the bernoulli model with a correlated intercept and slope on mlmRev's
# Contraception (1,934 women in 60 districts of Bangladesh) for
# tests/test_contraception_reference.py:
#   use ~ urban + age + livch + (1 + urban | district)
# Run: Rscript tests/reference_contraception.R [brms]   (reads tests/data/contraception.csv,
# written by tests/reference_links.R). With "brms" also brms 4 x 1000 after 1000 warm-up, seed
# 1, with hierbayes's default priors for this model written out as brms priors (the intercept
# at the predictors' means, as brms's Intercept class).
suppressPackageStartupMessages(library(lme4))
d <- read.csv("tests/data/contraception.csv", colClasses = c(livch = "character",
                                                               district = "character"))
f <- use ~ urban + age + livch + (1 + urban | district)
show <- function(label, x) cat(sprintf("%-10s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
g <- glmer(f, data = d, family = binomial, control = glmerControl(optimizer = "bobyqa"))
show("glmer b", fixef(g)); show("glmer se", sqrt(diag(as.matrix(vcov(g)))))
vc <- VarCorr(g)$district
show("glmer sd", attr(vc, "stddev")); show("glmer cor", attr(vc, "correlation")[1, 2])

if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  suppressPackageStartupMessages(library(brms))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 5.5048), class = b, coef = urbanY),
         prior(normal(0, 0.2774), class = b, coef = age),
         prior(normal(0, 6.4492), class = b, coef = livch1),
         prior(normal(0, 6.8576), class = b, coef = livch2),
         prior(normal(0, 5.1385), class = b, coef = livch3P),
         prior(normal(0, 2.5), class = sd, group = district, coef = Intercept),
         prior(normal(0, 5.5048), class = sd, group = district, coef = urbanY),
         prior(lkj(2), class = cor))
  start <- Sys.time()
  fb <- brm(f, data = d, family = bernoulli, prior = p, chains = 4, iter = 2000, warmup = 1000,
            cores = 2, seed = 1, refresh = 0)
  cat("brms wall (s)", as.numeric(difftime(Sys.time(), start, units = "secs")), "\n")
  print(prior_summary(fb))
  post <- as_draws_df(fb)
  keep <- c(grep("^b_", names(post), value = TRUE), grep("^(sd|cor)_", names(post), value = TRUE))
  show("brms mean", sapply(post[keep], mean)); show("brms sd", sapply(post[keep], sd))
  s <- summary(fb)
  print(s)
  cat("min bulk ESS", min(c(s$fixed$Bulk_ESS, s$random$district$Bulk_ESS)), "\n")
  cat("divergences", sum(nuts_params(fb, pars = "divergent__")$Value), "\n")
}
