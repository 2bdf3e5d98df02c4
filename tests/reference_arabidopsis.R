# Reference values for tests/build/test_glm_choice_nested.py: lme4's Arabidopsis (625 plants of
# 24 genotypes `gen` nested in 9 populations `popu`; fruit counts), a negative binomial (NB2)
# GLMM whose upper level's SD is three times the lower level's.
# Run: Rscript tests/reference_arabidopsis.R   (writes tests/data/arabidopsis.csv)
suppressPackageStartupMessages({library(lme4); library(glmmTMB)})
a <- Arabidopsis
d <- data.frame(total.fruits = a$total.fruits, nutrient = as.character(a$nutrient),
                amd = as.character(a$amd), rack = as.character(a$rack),
                status = as.character(a$status), popu = as.character(a$popu),
                gen = as.character(a$gen))
write.csv(d, "tests/data/arabidopsis.csv", row.names = FALSE)
m <- glmmTMB(total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen),
             family = nbinom2, data = d)
show <- function(label, x) cat(sprintf("%-9s %s\n", label, paste(names(x), signif(x, 6), collapse = "  ")))
show("fixef", fixef(m)$cond); show("se", sqrt(diag(vcov(m)$cond)))
show("sd", c(popu = attr(VarCorr(m)$cond$popu, "stddev"), gen = attr(VarCorr(m)$cond$gen, "stddev")))
show("shape", c(shape = sigma(m)))
