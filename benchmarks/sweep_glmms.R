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
# second sweep: gaussian nested/crossed/correlated slopes; lognormal, gamma, binomial slopes, probit,
# cloglog, cumulative probit, zero-inflated poisson
suppressPackageStartupMessages({library(nlme); library(geepack)})
ck <- lme4::cake; ck$temperature <- as.character(ck$temperature); write.csv(ck, "cake.csv", row.names=FALSE)
write.csv(lme4::Penicillin, "penicillin.csv", row.names=FALSE)
write.csv(as.data.frame(nlme::Orthodont), "orthodont.csv", row.names=FALSE)
write.csv(as.data.frame(nlme::Rail), "rail.csv", row.names=FALSE)
write.csv(mlmRev::Hsb82, "hsb82.csv", row.names=FALSE)
write.csv(as.data.frame(ChickWeight), "chickweight.csv", row.names=FALSE)
write.csv(as.data.frame(nlme::BodyWeight), "bodyweight.csv", row.names=FALSE)
write.csv(MASS::OME, "ome.csv", row.names=FALSE)
v <- lme4::VerbAgg; v$yy <- as.integer(v$r2=="Y"); write.csv(v, "verbagg.csv", row.names=FALSE)
rs <- HSAUR3::respiratory; rs <- rs[rs$month != "0",]; rs$y <- as.integer(rs$status=="good")
rs$month <- as.integer(as.character(rs$month)); write.csv(rs, "respiratory.csv", row.names=FALSE)
write.csv(geepack::dietox, "dietox.csv", row.names=FALSE)
# third sweep: offset with nested groups, crossed schools, three levels, slopes by school, growth,
# split plot, crossed with an interaction factor, `||` slopes, binary longitudinal, ordinal slopes,
# beta, likelihood weights
mm <- mlmRev::Mmmec; write.csv(mm, "mmmec.csv", row.names=FALSE)
write.csv(mlmRev::ScotsSec, "scotssec.csv", row.names=FALSE)
write.csv(mlmRev::egsingle, "egsingle.csv", row.names=FALSE)
write.csv(mlmRev::Exam, "exam.csv", row.names=FALSE)
write.csv(mlmRev::Early, "early.csv", row.names=FALSE)
write.csv(as.data.frame(mlmRev::Oxboys), "oxboys.csv", row.names=FALSE)
write.csv(as.data.frame(nlme::Oats), "oats.csv", row.names=FALSE)
write.csv(as.data.frame(nlme::Machines), "machines.csv", row.names=FALSE)
data(ohio, package="geepack"); write.csv(ohio, "ohio.csv", row.names=FALSE)
w <- ordinal::wine; w$bitter <- w$response/100; write.csv(w, "wine.csv", row.names=FALSE)
ct <- mlmRev::Contraception; ct$y <- as.integer(ct$use=="Y"); write.csv(ct, "contraception.csv", row.names=FALSE)
# the same women as one row per district, urban, living children and use, weighted by the count
ca <- aggregate(list(n=ct$y), ct[, c("district","urban","livch","y")], length)
write.csv(ca, "contraception_agg.csv", row.names=FALSE)
ep <- MASS::epil; ep$visit <- ep$period; write.csv(ep, "epil.csv", row.names=FALSE)
write.csv(datasets::airquality, "airquality.csv", row.names=FALSE)  # Ozone has 37 missing values
