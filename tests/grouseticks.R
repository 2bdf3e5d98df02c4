# Reference fits of the grouse ticks Poisson GLMM with an observation-level random effect
# (tests/test_grouseticks.py). Run: Rscript tests/grouseticks.R [brms]
# WRITE_DATA=path also writes the data as bundled in hierbayes/datasets/data/grouseticks.csv.
suppressPackageStartupMessages({library(lme4); library(glmmTMB)})
data(grouseticks, package = "lme4")
d <- grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION")]
if (nzchar(Sys.getenv("WRITE_DATA"))) write.csv(d, Sys.getenv("WRITE_DATA"), row.names = FALSE)
f <- TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)
show <- function(label, x) cat(sprintf("%-14s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
sds <- function(vc) sapply(vc, function(v) attr(v, "stddev"))

# Laplace, glmmTMB (converges on the raw HEIGHT scale)
t <- glmmTMB(f, data = d, family = poisson)
show("glmmTMB b", fixef(t)$cond); show("glmmTMB se", sqrt(diag(vcov(t)$cond)))
show("glmmTMB sd", sds(VarCorr(t)$cond)); show("glmmTMB logLik", logLik(t))

# Laplace, lme4: on raw HEIGHT bobyqa stops early (lme4 asks to rescale), so fit on centred and
# scaled height and map the coefficients back
m <- mean(d$HEIGHT); s <- sd(d$HEIGHT); d$zH <- (d$HEIGHT - m) / s
g <- glmer(TICKS ~ YEAR + zH + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), data = d,
           family = poisson, control = glmerControl(optimizer = "bobyqa"))
b <- fixef(g); slope <- b[["zH"]] / s
show("glmer b", c(b[1:3] - c(slope * m, 0, 0), HEIGHT = slope))
show("glmer sd", sds(VarCorr(g)))

if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  # NUTS with hierbayes's default priors (intercept at the predictors' means, as brms's)
  suppressPackageStartupMessages(library(brms))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 5.132), class = b, coef = YEAR96),
         prior(normal(0, 5.331), class = b, coef = YEAR97),
         prior(normal(0, 0.0695), class = b, coef = HEIGHT),
         prior(normal(0, 2.5), class = sd))
  start <- Sys.time()
  fb <- brm(f, data = d, family = poisson, prior = p, chains = 4, iter = 2000, warmup = 1000,
            cores = 1, seed = 1, refresh = 0)
  cat("brms wall (s)", as.numeric(difftime(Sys.time(), start, units = "secs")), "\n")
  post <- as_draws_df(fb)
  keep <- c("b_Intercept", "b_YEAR96", "b_YEAR97", "b_HEIGHT", "sd_BROOD__Intercept",
            "sd_INDEX__Intercept", "sd_LOCATION__Intercept")
  show("brms mean", sapply(post[keep], mean)); show("brms sd", sapply(post[keep], sd))
  print(summary(fb))
  cat("divergences", sum(nuts_params(fb)$Value[nuts_params(fb)$Parameter == "divergent__"]), "\n")
}
