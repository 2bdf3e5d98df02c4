# Reference fit of the crossed binary model on lme4's VerbAgg (tests/test_verbagg.py):
# r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), 7,584 rows, 316 x 24 crossed.
# Run: Rscript tests/reference_verbagg.R [brms]   (with "brms" also brms 4 x 1000 after 1000
# warm-up, seed 1, with hierbayes's default priors for this model written out as brms priors)
# WRITE_DATA=path also writes the data as bundled in hierbayes/datasets/data/verbagg.csv.gz
# (r2 as 0/1: 1 = "Y").
suppressPackageStartupMessages(library(lme4))
data(VerbAgg, package = "lme4")
d <- VerbAgg[, c("id", "item", "Anger", "Gender", "btype", "situ", "mode", "resp", "r2")]
d$r2 <- as.integer(d$r2 == "Y")
if (nzchar(Sys.getenv("WRITE_DATA"))) {
  con <- gzfile(Sys.getenv("WRITE_DATA"), "w")
  write.csv(d, con, row.names = FALSE)
  close(con)
}
show <- function(label, x) cat(sprintf("%-10s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
g <- glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = d,
           family = binomial, control = glmerControl(optimizer = "bobyqa"))
show("glmer b", fixef(g)); show("glmer se", sqrt(diag(as.matrix(vcov(g)))))
show("glmer sd", sapply(VarCorr(g), function(v) attr(v, "stddev")))

if (length(commandArgs(TRUE)) && commandArgs(TRUE)[1] == "brms") {
  suppressPackageStartupMessages(library(brms))
  p <- c(prior(normal(0, 2.5), class = Intercept),
         prior(normal(0, 0.5164), class = b, coef = Anger),
         prior(normal(0, 5.9311), class = b, coef = GenderM),
         prior(normal(0, 5.303), class = b, coef = btypescold),
         prior(normal(0, 5.303), class = b, coef = btypeshout),
         prior(normal(0, 4.9997), class = b, coef = situself),
         prior(normal(0, 2.5), class = sd))
  start <- Sys.time()
  fb <- brm(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = d,
            family = bernoulli, prior = p, chains = 4, iter = 2000, warmup = 1000, cores = 2,
            seed = 1, refresh = 0)
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
