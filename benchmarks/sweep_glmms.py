"""hierbayes's defaults on classic GLMMs from R packages: convergence, time and estimates.

Fits each model with ``hb.Model(formula, data, family=...).fit(random_seed=seed)`` (4 x 1000
draws) and prints the largest R-hat and smallest bulk ESS of the population parameters (fixed
effects, cut-points, group SDs, the family's own), divergences, wall and CPU seconds, whether
the fit had to be run again (``rerun``), and the posterior means, to compare with lme4/glmmTMB.

Usage::

    Rscript benchmarks/sweep_glmms.R /tmp/sweep          # writes the CSV files
    uv run python benchmarks/sweep_glmms.py /tmp/sweep [model ...] [--seed 1] [--tune N]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import hierbayes as hb

_OFFSET = "offset(np.log(BroodSize))"
_OWLS = f"SiblingNegotiation ~ FoodTreatment * SexParent + {_OFFSET} + (1 | Nest)"
_ARAB = "total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen)"
_PRENAT = "y ~ indig + momEd + husEd + husEmpl + toilet + pcInd81 + ssDist"
_ORTHO = "distance ~ age * Sex + (1 + age | Subject)"
_OME = "Correct | trials(Trials) ~ Loud + Age + OME + (1 + Loud | ID)"
_VERB = "yy ~ Anger + Gender + btype + situ + mode"
_VERB_ORD = "resp ~ Anger + Gender + btype + situ + mode + (1 | id) + (1 | item)"
_RESP = "y ~ treatment + gender + age + centre + month + (1 | subject)"
_EG = "math ~ year + lowinc + (1 + year | schoolid) + (1 + year | childid)"
_CONTRA = "y ~ urban + livch + (1 | district)"
_MMMEC = "deaths ~ uvb + offset(np.log(expected)) + (1 | nation/region)"
_SCOTS = "attain ~ verbal + sex + social + (1 | primary) + (1 | second)"
_EARLY_C = "cog ~ I(age - 1.5) * trt + (1 + I(age - 1.5) | id)"
_EPIL = "y ~ lbase * trt + lage + visit + (1 + visit | subject)"
_AIR = "Ozone ~ Temp + Wind + (1 | Month)"
# (csv, formula, family), (csv, formula, family, link) or (csv, formula, family, {option: value})
MODELS: dict[str, tuple] = {
    "cbpp": ("cbpp", "incidence | trials(size) ~ period + (1 | herd)", "binomial"),
    "cbpp_obs": ("cbpp", "incidence | trials(size) ~ period + (1 | herd) + (1 | obs)", "binomial"),
    "epilepsy": ("epilepsy", "count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs)", "poisson"),
    "bacteria": ("bacteria", "yy ~ trt + I(week > 2) + (1 | ID)", "bernoulli"),
    "owls_pois": ("owls", _OWLS, "poisson"),
    "owls_nb": ("owls", _OWLS, "negativebinomial"),
    "owls_zinb": ("owls", _OWLS, "zero_inflated_negativebinomial"),
    "arab": ("arabidopsis", _ARAB, "poisson"),
    "arab_nb": ("arabidopsis", _ARAB, "negativebinomial"),
    "arab_obs": ("arabidopsis", _ARAB + " + (1 | obs)", "poisson"),
    "soup": ("soup", "SURENESS ~ PROD + (1 | RESP)", "cumulative"),
    "soup_day": ("soup", "SURENESS ~ PROD + (1 | RESP/DAY)", "cumulative"),
    "inhaler": ("inhaler", "rating ~ treat + period + carry + (1 | subject)", "cumulative"),
    "toenail": ("toenail", "y ~ treatment * visit + (1 | patientID)", "bernoulli"),
    "guprenat": ("guprenat", _PRENAT + " + (1 | cluster) + (1 | mom)", "bernoulli"),
    "salam_crossed": ("salam", "count ~ mined + (1 | site) + (1 | spp)", "poisson"),
    # second sweep: gaussian nested/crossed/correlated slopes and the other families and links
    "cake": ("cake", "angle ~ recipe * temperature + (1 | recipe:replicate)", "gaussian"),
    "penicillin": ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", "gaussian"),
    "rail": ("rail", "travel ~ 1 + (1 | Rail)", "gaussian"),
    "orthodont": ("orthodont", _ORTHO, "gaussian"),
    "orthodont_t": ("orthodont", _ORTHO, "student_t"),
    "hsb82": ("hsb82", "mAch ~ meanses * cses + sx + minrty + (1 + cses | school)", "gaussian"),
    "dietox": ("dietox", "Weight ~ Time * Evit + Cu + (1 + Time | Pig) + (1 | Litter)", "gaussian"),
    "chick_lognormal": ("chickweight", "weight ~ Time * Diet + (1 + Time | Chick)", "lognormal"),
    "bodyweight_gamma": ("bodyweight", "weight ~ Time * Diet + (1 + Time | Rat)", "gamma"),
    "ome_slopes": ("ome", _OME, "binomial"),
    "ome_probit": ("ome", _OME, "binomial", "probit"),
    "verbagg_mode": ("verbagg", _VERB + " + (1 + mode | id) + (1 | item)", "bernoulli"),
    "verbagg_probit": ("verbagg", _VERB_ORD, "cumulative", "probit"),
    "salam_zip": ("salam", "count ~ spp + mined + (1 | site)", "zero_inflated_poisson"),
    "respiratory_cloglog": ("respiratory", _RESP, "bernoulli", "cloglog"),
    # third sweep: offset with nested groups, crossed schools, three levels, slopes by school,
    # growth, split plot, crossed with an interaction factor, `||` slopes, binary longitudinal,
    # ordinal with a slope, beta, likelihood weights (aggregated rows: the same posterior as the
    # women one by one), missing values dropped
    "mmmec": ("mmmec", _MMMEC, "poisson"),
    "scotssec": ("scotssec", _SCOTS, "gaussian"),
    "egsingle": ("egsingle", _EG, "gaussian"),
    "exam": ("exam", "normexam ~ standLRT + sex + schavg + (1 + standLRT | school)", "gaussian"),
    "early": ("early", "cog ~ age * trt + (1 + age | id)", "gaussian"),
    "early_centred": ("early", _EARLY_C, "gaussian"),
    "oxboys": ("oxboys", "height ~ age + I(age**2) + (1 + age | Subject)", "gaussian"),
    "oats": ("oats", "yield ~ nitro + Variety + (1 | Block/Variety)", "gaussian"),
    "machines": ("machines", "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)", "gaussian"),
    "bacteria_slopes": ("bacteria", "yy ~ trt + week + (1 + week || ID)", "bernoulli"),
    "ohio": ("ohio", "resp ~ age * smoke + (1 | id)", "bernoulli"),
    "wine_slope": ("wine", "rating ~ temp + contact + (1 + temp | judge)", "cumulative"),
    "wine_beta": ("wine", "bitter ~ temp + contact + (1 | judge)", "beta"),
    "epil_nb": ("epil", _EPIL, "negativebinomial"),
    "contraception": ("contraception", _CONTRA, "bernoulli"),
    "airquality": ("airquality", _AIR, "lognormal", {"missing": "drop"}),
    "contraception_w": ("contraception_agg", _CONTRA, "bernoulli", {"weights": "n"}),
}
_LABELS = (
    "rack",
    "nutrient",
    "period",
    "herd",
    "patient",
    "ID",
    "Trt",
    "RESP",
    "DAY",
    "popu",
    "gen",
    "obs",
    "Nest",
    "mom",
    "cluster",
    "patientID",
    "site",
    "spp",
    "subject",
    "replicate",
    "temperature",
    "plate",
    "sample",
    "Rail",
    "Subject",
    "school",
    "Pig",
    "Litter",
    "Chick",
    "Diet",
    "Rat",
    "id",
    "item",
    "centre",
    "nation",
    "region",
    "primary",
    "second",
    "schoolid",
    "childid",
    "Block",
    "Variety",
    "Worker",
    "Machine",
    "judge",
    "district",
    "Month",
)


def _data(folder: Path, name: str) -> pd.DataFrame:
    # "None" is a level of guPrenat's momEd and toilet: only "NA" is missing
    data = pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=["NA"])
    for column in _LABELS:
        if column in data.columns:
            data[column] = data[column].astype(str)
    if name == "verbagg":  # the cumulative family needs the order of the levels
        data["resp"] = pd.Categorical(data["resp"], ["no", "perhaps", "yes"], ordered=True)
    return data


def _diagonal(label: str) -> bool:
    # a correlation matrix's diagonal is 1 in every draw: its R-hat and ESS are noise
    if not label.startswith("cor|") or "[" not in label:
        return False
    first, _, second = label[label.index("[") + 1 : -1].partition(", ")
    return first == second


def run(folder: Path, model: str, seed: int, tune: int | None = None) -> dict:
    csv, formula, family, *extra = MODELS[model]
    options = {"link": extra[0]} if extra and isinstance(extra[0], str) else dict(*extra)
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        settings = {} if tune is None else {"tune": tune}
        fit = hb.Model(formula, _data(folder, csv), family=family, **options).fit(
            random_seed=seed, progressbar=False, **settings
        )
    post = fit.idata["posterior"]
    names = [
        v
        for v in post.data_vars
        if v in ("b", "cutpoints", "shape", "zi", "sigma", "nu", "phi")
        or v.startswith(("sd|", "cor|"))
    ]
    table = az.summary(fit.idata, var_names=names)
    table = table[[not _diagonal(label) for label in table.index]]
    return {
        "model": model,
        "rows": fit.model.design.n_obs,
        "r_hat": float(table["r_hat"].max()),
        "ess_bulk": float(table["ess_bulk"].min()),
        "worst": str(table["ess_bulk"].idxmin()),
        "ess_tail": float(table["ess_tail"].min()),
        "divergences": int(fit.diagnostics.divergences),
        "wall_s": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu,  # this process; nutpie's threads included
        "rerun": any("first run failed" in n for n in fit.diagnostics.notes),
        "means": table["mean"].round(3).to_dict(),
        "sds": table["sd"].round(3).to_dict(),
        "notes": list(fit.diagnostics.notes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tune", type=int, default=None, help="warm-up draws (default: fit's)")
    args = parser.parse_args()
    rows = [run(args.folder, m, args.seed, args.tune) for m in args.models]
    table = pd.DataFrame(rows).set_index("model")
    with pd.option_context("display.width", 160):
        print(table.drop(columns=["means", "sds", "notes"]).round(3).to_string())
    for row in rows:
        print(row["model"], {k: v for k, v in row["means"].items() if np.isfinite(v)})
        print(row["model"], "sd", {k: v for k, v in row["sds"].items() if np.isfinite(v)})
        for note in row["notes"]:
            print(row["model"], "note:", note)


if __name__ == "__main__":
    main()
