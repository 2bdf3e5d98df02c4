# Reference values for tests/test_sigma_reference.py: a residual SD that varies by subject and
# with days of sleep deprivation (brms's distributional `sigma ~ ...`) on lme4's sleepstudy.
# Priors are set to hierbayes's defaults for this model (see the test), so the posteriors compare.
# Run: Rscript tests/reference_sigma.R   (about 3 minutes; brms 4 chains x 1000 after 1000 warmup)
suppressPackageStartupMessages({library(brms); library(lme4)})
d <- lme4::sleepstudy
priors <- c(
  prior(normal(298.5, 140.8), class = Intercept),
  prior(normal(0, 48.89), class = b),
  prior(normal(0, 56.33), class = sd, group = Subject),
  prior(student_t(3, 4.0312, 2.5), class = Intercept, dpar = sigma),
  prior(normal(0, 0.868), class = b, dpar = sigma),
  prior(normal(0, 1), class = sd, dpar = sigma)
)
m <- brm(bf(Reaction ~ Days + (1 | Subject), sigma ~ Days + (1 | Subject)), data = d,
         prior = priors, chains = 4, iter = 2000, warmup = 1000, seed = 1, refresh = 0,
         cores = 2)
s <- posterior_summary(m)
keep <- c("b_Intercept", "b_Days", "b_sigma_Intercept", "b_sigma_Days",
          "sd_Subject__Intercept", "sd_Subject__sigma_Intercept")
print(summary(m))
ess <- summary(m)
for (k in keep) cat(sprintf("%s mean %.5f sd %.5f\n", k, s[k, "Estimate"], s[k, "Est.Error"]))
