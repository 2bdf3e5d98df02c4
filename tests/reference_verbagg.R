# Reference fit of the crossed binary model on lme4's VerbAgg (tests/test_verbagg.py):
# r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), 7,584 rows, 316 x 24 crossed.
# Run: Rscript tests/reference_verbagg.R
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
