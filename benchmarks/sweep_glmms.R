# Writes the classic GLMMs of benchmarks/sweep_glmms.py to CSV files in a folder.
# Run: Rscript benchmarks/sweep_glmms.R /tmp/sweep   (then: uv run python benchmarks/sweep_glmms.py /tmp/sweep)
args <- commandArgs(TRUE); out <- if (length(args)) args[1] else "."
dir.create(out, showWarnings = FALSE); setwd(out)
suppressPackageStartupMessages({
library(lme4); library(glmmTMB); library(MASS); library(mlmRev); library(ordinal); library(HSAUR3)})
d <- cbpp; d$obs <- seq_len(nrow(d)); d$prop <- d$incidence/d$size; write.csv(d, "cbpp.csv", row.names=FALSE)
e <- brms::epilepsy; e$obs <- seq_len(nrow(e)); write.csv(e, "epilepsy.csv", row.names=FALSE)
b <- MASS::bacteria; b$yy <- as.integer(b$y=="y"); b$wk2 <- as.integer(b$week>2); write.csv(b, "bacteria.csv", row.names=FALSE)
o <- glmmTMB::Owls; write.csv(o, "owls.csv", row.names=FALSE)
a <- lme4::Arabidopsis; a$obs <- seq_len(nrow(a)); write.csv(a, "arabidopsis.csv", row.names=FALSE)
s <- ordinal::soup; write.csv(s, "soup.csv", row.names=FALSE)
t <- HSAUR3::toenail; t$y <- as.integer(t$outcome=="moderate or severe"); write.csv(t, "toenail.csv", row.names=FALSE)
g <- mlmRev::guPrenat; g$y <- as.integer(g$prenat=="Modern"); write.csv(g, "guprenat.csv", row.names=FALSE)
write.csv(brms::inhaler, "inhaler.csv", row.names=FALSE)
sa <- glmmTMB::Salamanders; write.csv(sa, "salam.csv", row.names=FALSE)
