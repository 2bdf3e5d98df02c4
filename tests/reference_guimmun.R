# Reference fits of the three-level binary model on mlmRev's guImmun (Rodriguez and Goldman's
# Guatemalan immunisation data: 2,159 children of 1,595 mothers in 161 communities) for
# tests/test_guimmun_reference.py:
#   immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81
#           + (1 | mom) + (1 | comm)
# Run: Rscript tests/reference_guimmun.R [brms]   (writes tests/data/guimmun.csv; immun as 0/1,
# 1 = "Y"; the factors keep mlmRev's levels). With "brms" also brms 4 x 1000 after 1000 warm-up,
# seed 1, with hierbayes's default priors for this model written out as brms priors.
suppressPackageStartupMessages({library(lme4); library(mlmRev)})
data(guImmun, package = "mlmRev")
d <- data.frame(immun = as.integer(guImmun$immun == "Y"))
for (v in c("kid2p", "mom25p", "ord", "ethn", "momEd", "husEd", "momWork", "rural"))
  d[[v]] <- as.character(guImmun[[v]])
d$pcInd81 <- guImmun$pcInd81
d$mom <- as.character(guImmun$mom); d$comm <- as.character(guImmun$comm)
write.csv(d, "tests/data/guimmun.csv", row.names = FALSE)
f <- immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81 +
  (1 | mom) + (1 | comm)
show <- function(label, x) cat(sprintf("%-10s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
g <- glmer(f, data = d, family = binomial, control = glmerControl(optimizer = "bobyqa"))
show("glmer b", fixef(g)); show("glmer se", sqrt(diag(as.matrix(vcov(g)))))
show("glmer sd", sapply(VarCorr(g), function(v) attr(v, "stddev")))

if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  suppressPackageStartupMessages(library(brms))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 5.9543), class = b, coef = kid2pY),
         prior(normal(0, 5.0025), class = b, coef = mom25pY),
         prior(normal(0, 5.2661), class = b, coef = ord23),
         prior(normal(0, 5.2996), class = b, coef = ord46),
         prior(normal(0, 7.0526), class = b, coef = ord7p),
         prior(normal(0, 6.6045), class = b, coef = ethnN),
         prior(normal(0, 5.9167), class = b, coef = ethnS),
         prior(normal(0, 5.0282), class = b, coef = momEdP),
         prior(normal(0, 9.9539), class = b, coef = momEdS),
         prior(normal(0, 5.0), class = b, coef = husEdP),
         prior(normal(0, 7.8802), class = b, coef = husEdS),
         prior(normal(0, 8.9961), class = b, coef = husEdU),
         prior(normal(0, 5.0238), class = b, coef = momWorkY),
         prior(normal(0, 5.8491), class = b, coef = ruralY),
         prior(normal(0, 6.6606), class = b, coef = pcInd81),
         prior(normal(0, 2.5), class = sd))
  start <- Sys.time()
  fb <- brm(f, data = d, family = bernoulli, prior = p, chains = 4, iter = 2000, warmup = 1000,
            cores = 2, seed = 1, refresh = 0)
  cat("brms wall (s)", as.numeric(difftime(Sys.time(), start, units = "secs")), "\n")
  print(prior_summary(fb))
  post <- as_draws_df(fb)
  keep <- c(grep("^b_", names(post), value = TRUE), grep("^sd_", names(post), value = TRUE))
  show("brms mean", sapply(post[keep], mean)); show("brms sd", sapply(post[keep], sd))
  s <- summary(fb)
  print(s)
  cat("min bulk ESS", min(c(s$fixed$Bulk_ESS, unlist(lapply(s$random, function(r) r$Bulk_ESS)))), "\n")
  cat("divergences", sum(nuts_params(fb, pars = "divergent__")$Value), "\n")
}
