# lme4/glmmTMB/ordinal fits of the second and third sweeps' models in benchmarks/sweep_glmms.py, to compare with
# hierbayes's posterior means. Run: Rscript benchmarks/sweep_glmms.R /tmp/sweep; Rscript benchmarks/sweep_glmms_reference.R /tmp/sweep
# SWEEP3_ONLY=1 fits only the third sweep's models (the last block).
args <- commandArgs(TRUE); setwd(if (length(args)) args[1] else ".")
suppressPackageStartupMessages({library(lme4); library(glmmTMB); library(ordinal)})
rd <- function(f) { d <- read.csv(f, stringsAsFactors=TRUE, na.strings="NA"); d }
show <- function(name, m) {
  cat("=====", name, "\n")
  if (inherits(m, "glmmTMB")) { print(summary(m)$coefficients$cond[,1:2]); print(VarCorr(m)); if (!is.null(m$fit$par)) print(m$fit$par[names(m$fit$par) %in% c("betazi","betad")]) }
  else if (inherits(m, "clmm")) { print(coef(summary(m))[,1:2]); print(VarCorr(m)) }
  else { print(coef(summary(m))[,1:2]); print(VarCorr(m), comp=c("Std.Dev")) ; cat("sigma", sigma(m), "\n")}
}
ck <- rd("cake.csv"); ck$temperature <- factor(ck$temperature); ck$replicate <- factor(ck$replicate)
if (!identical(Sys.getenv("SWEEP3_ONLY"), "1")) {
show("cake", lmer(angle ~ recipe * temperature + (1 | recipe:replicate), ck))
show("penicillin", lmer(diameter ~ 1 + (1 | plate) + (1 | sample), rd("penicillin.csv")))
r <- rd("rail.csv"); r$Rail <- factor(r$Rail); show("rail", lmer(travel ~ 1 + (1 | Rail), r))
o <- rd("orthodont.csv"); show("orthodont", lmer(distance ~ age * Sex + (1 + age | Subject), o))
h <- rd("hsb82.csv"); h$school <- factor(h$school); show("hsb82", lmer(mAch ~ meanses * cses + sx + minrty + (1 + cses | school), h))
dx <- rd("dietox.csv"); dx$Pig <- factor(dx$Pig); dx$Litter <- factor(dx$Litter)
show("dietox", lmer(Weight ~ Time * Evit + Cu + (1 + Time | Pig) + (1 | Litter), dx))
cw <- rd("chickweight.csv"); cw$Chick <- factor(cw$Chick); cw$Diet <- factor(cw$Diet)
show("chick_lognormal (lmer log)", lmer(log(weight) ~ Time * Diet + (1 + Time | Chick), cw))
bw <- rd("bodyweight.csv"); bw$Rat <- factor(bw$Rat); bw$Diet <- factor(bw$Diet)
show("bodyweight_gamma", glmmTMB(weight ~ Time * Diet + (1 + Time | Rat), bw, family=Gamma(link="log")))
ome <- rd("ome.csv"); ome$ID <- factor(ome$ID); ome$wrong <- ome$Trials - ome$Correct
show("ome_slopes", glmmTMB(cbind(Correct, wrong) ~ Loud + Age + OME + (1 + Loud | ID), ome, family=binomial))
show("ome_probit", glmmTMB(cbind(Correct, wrong) ~ Loud + Age + OME + (1 + Loud | ID), ome, family=binomial(link="probit")))
sa <- rd("salam.csv"); show("salam_zip", glmmTMB(count ~ spp + mined + (1 | site), sa, family=poisson, ziformula=~1))
rs <- rd("respiratory.csv"); rs$subject <- factor(rs$subject); rs$centre <- factor(rs$centre)
show("respiratory_cloglog", glmmTMB(y ~ treatment + gender + age + centre + month + (1 | subject), rs, family=binomial(link="cloglog")))
v <- rd("verbagg.csv"); v$id <- factor(v$id); v$resp <- factor(v$resp, levels=c("no","perhaps","yes"), ordered=TRUE)
show("verbagg_probit", clmm(resp ~ Anger + Gender + btype + situ + mode + (1 | id) + (1 | item), data=v, link="probit"))
show("verbagg_mode", glmmTMB(yy ~ Anger + Gender + btype + situ + mode + (1 + mode | id) + (1 | item), v, family=binomial))
}
# third sweep
mm <- rd("mmmec.csv"); mm$region <- factor(mm$region)
show("mmmec", glmer(deaths ~ uvb + offset(log(expected)) + (1 | nation/region), mm, family=poisson))
show("scotssec", lmer(attain ~ verbal + sex + social + (1 | primary) + (1 | second), transform(rd("scotssec.csv"), primary=factor(primary), second=factor(second))))
eg <- rd("egsingle.csv"); eg$schoolid <- factor(eg$schoolid); eg$childid <- factor(eg$childid)
show("egsingle", lmer(math ~ year + lowinc + (1 + year | schoolid) + (1 + year | childid), eg))
ex <- rd("exam.csv"); ex$school <- factor(ex$school)
show("exam", lmer(normexam ~ standLRT + sex + schavg + (1 + standLRT | school), ex))
ea <- rd("early.csv"); ea$id <- factor(ea$id); show("early", lmer(cog ~ age * trt + (1 + age | id), ea))
ox <- rd("oxboys.csv"); ox$Subject <- factor(ox$Subject)
show("oxboys", lmer(height ~ age + I(age^2) + (1 + age | Subject), ox))
oa <- rd("oats.csv"); show("oats", lmer(yield ~ nitro + Variety + (1 | Block/Variety), oa))
ma <- rd("machines.csv"); ma$Worker <- factor(ma$Worker)
show("machines", lmer(score ~ Machine + (1 | Worker) + (1 | Worker:Machine), ma))
b <- rd("bacteria.csv"); show("bacteria_slopes", glmer(yy ~ trt + week + (1 + week || ID), b, family=binomial))
oh <- rd("ohio.csv"); oh$id <- factor(oh$id)
show("ohio", glmer(resp ~ age * smoke + (1 | id), oh, family=binomial))
show("ohio (AGQ 25)", glmer(resp ~ age * smoke + (1 | id), oh, family=binomial, nAGQ=25))
wi <- rd("wine.csv"); wi$judge <- factor(wi$judge); wi$rating <- factor(wi$rating, ordered=TRUE)
show("wine_slope", clmm(rating ~ temp + contact + (1 + temp | judge), data=wi))
show("wine_beta", glmmTMB(bitter ~ temp + contact + (1 | judge), wi, family=beta_family()))
ct <- rd("contraception.csv"); ct$district <- factor(ct$district)
show("contraception", glmer(y ~ urban + livch + (1 | district), ct, family=binomial))
ca <- rd("contraception_agg.csv"); ca$district <- factor(ca$district)
show("contraception_w", glmer(y ~ urban + livch + (1 | district), ca, family=binomial, weights=n))
ea$agec <- ea$age - 1.5; show("early_centred", lmer(cog ~ agec * trt + (1 + agec | id), ea))
ep <- rd("epil.csv"); ep$subject <- factor(ep$subject)
show("epil_nb", glmmTMB(y ~ lbase * trt + lage + visit + (1 + visit | subject), ep, family=nbinom2))
aq <- rd("airquality.csv"); aq$Month <- factor(aq$Month)
show("airquality (lmer log)", lmer(log(Ozone) ~ Temp + Wind + (1 | Month), aq))
