"""Benchmark hierbayes against its peers on bundled real data, in one run.

Prints, for each model and tool: wall time end to end (build + compile + sample), the sampling
part of it (``sample_s``), the compiling part (``compile_s``) and the rest (``other_s``:
building, and for hierbayes the draws of integrated-out effects, the pointwise log-likelihood and
the convergence checks), the smallest bulk ESS over the population-level parameters (fixed
effects, group SDs and correlations, residual SD), ESS per second of wall time, its ratio to
bambi's (``x_bambi``), and the largest gap between the posterior means of the fixed effects and
those of hierbayes, in hierbayes posterior SDs. statsmodels MixedLM (REML point estimates) is
timed for reference. Models with a ``brms`` entry (the non-gaussian ones: issue #11's table) also
run brms through ``Rscript``, with brms's default priors (its wall time includes compiling the
Stan model; ``--no-brms`` skips it); the tests compare hierbayes with brms given hierbayes's
priors (``tests/reference_<model>.R``).

hierbayes runs its compiled log-density (``engine`` "kernel", numba code cached on disk once per
machine; the first run on a machine compiles it) and, with ``--engines kernel pymc``, also the
PyMC model compiled for nutpie by PyTensor's numba backend (``engine`` "pymc", what
``Model.fit`` falls back to for priors the kernel lacks), to show what the kernel buys.

Usage::

    uv run --group bench python benchmarks/run.py            # 4 chains x 1000 draws
    uv run --group bench python benchmarks/run.py --quick    # 2 chains x 300 draws
    uv run --group bench python benchmarks/run.py --no-bambi # hierbayes and statsmodels only
    uv run --group bench python benchmarks/run.py --models hsb --parameterizations auto noncentered
    uv run --group bench python benchmarks/run.py --models sleepstudy --engines kernel pymc
    uv run --group bench python benchmarks/run.py --models hsb_sigma --engines kernel pymc
    uv run --group bench python benchmarks/run.py --quick --models salamanders
    uv run --group bench python benchmarks/run.py --quick --models wine
    uv run --group bench python benchmarks/run.py --models contraception guimmun --no-statsmodels
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import hierbayes as hb

CORES = min(4, os.cpu_count() or 1)  # chains run in parallel on this many cores, by every tool

MODELS = {
    "sleepstudy": {
        "formula": "Reaction ~ Days + (1 + Days | Subject)",
        "data": lambda: hb.datasets.load("sleepstudy"),
        "level2": lambda: None,
        "statsmodels": ("Reaction ~ Days", "Subject", "~Days"),
    },
    "hsb": {
        "formula": "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
        "data": lambda: hb.datasets.load("hsb").drop(columns=["meanses", "sector"]),
        "level2": lambda: {"school": hb.datasets.load("hsb_schools")},
        "statsmodels": ("mAch ~ cses * (meanses + sector)", "school", "~cses"),
    },
    "hsb_sigma": {
        # the residual SD varying by school (sigma="~ ..."; brms's bf(..., sigma ~ ...))
        "formula": "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
        "sigma": "~ 1 + (1 | school)",
        "data": lambda: hb.datasets.load("hsb"),
        "level2": lambda: None,
        "statsmodels": None,  # MixedLM has one residual variance
        "brms": "gaussian",
    },
    "insteval": {
        "formula": "y ~ service + (1 | s) + (1 | d) + (1 | dept)",
        "data": lambda: hb.datasets.load("insteval"),
        "level2": lambda: None,
        "statsmodels": None,  # crossed factors: MixedLM has no practical fit for 73k rows
    },
    "pupils": {
        # 25k rows, 10,000 pupils crossed with 80 schools (simulated, the shape of the Scottish
        # "Tests" data): both factors' intercepts integrated out jointly
        "formula": "math ~ ses + (1 | pupil) + (1 | school)",
        "data": lambda: _pupils(),
        "level2": lambda: None,
        "statsmodels": None,  # crossed factors
    },
    "grouseticks": {
        # Poisson counts with an observation-level effect (INDEX: one row per group)
        "formula": "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        "family": "poisson",
        "data": lambda: hb.datasets.load("grouseticks"),
        "level2": lambda: None,
        "statsmodels": None,  # MixedLM is gaussian only
        "brms": "poisson",
    },
    "salamanders": {
        # overdispersed counts: negative binomial (NB2), glmmTMB's Salamanders
        "formula": "count ~ mined + spp + (1 | site)",
        "family": "negativebinomial",
        "data": lambda: pd.read_csv(Path(__file__).parents[1] / "tests/data/salamanders.csv"),
        "level2": lambda: None,
        "statsmodels": None,
        "brms": "negbinomial",
    },
    "wine": {
        # ordinal ratings: cumulative logit with a judge effect, ordinal's wine data (72 rows)
        "formula": "rating ~ temp + contact + (1 | judge)",
        "family": "cumulative",
        "data": lambda: _wine(),
        "level2": lambda: None,
        "statsmodels": None,
        "brms": "cumulative",
    },
    "verbagg": {
        # bernoulli, 316 respondents x 24 items crossed (lme4's VerbAgg)
        "formula": "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        "family": "bernoulli",
        "data": lambda: hb.datasets.load("verbagg"),
        "level2": lambda: None,
        "statsmodels": None,  # MixedLM is gaussian only
        "brms": "bernoulli",
    },
    "contraception": {
        # bernoulli, a correlated intercept and urban slope by district (mlmRev's Contraception:
        # 1,934 women in 60 districts)
        "formula": "use ~ urban + age + livch + (1 + urban | district)",
        "family": "bernoulli",
        "data": lambda: _tests_data("contraception.csv", district=str),
        "level2": lambda: None,
        "statsmodels": None,
        "brms": "bernoulli",
    },
    "guimmun": {
        # bernoulli, 2,159 children in 1,595 mothers in 161 communities (mlmRev's guImmun,
        # Rodriguez and Goldman's model)
        "formula": "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural"
        " + pcInd81 + (1 | mom) + (1 | comm)",
        "family": "bernoulli",
        "data": lambda: _tests_data("guimmun.csv", ord=str, mom=str, comm=str),
        "level2": lambda: None,
        "statsmodels": None,
        "brms": "bernoulli",
    },
}

BRMS_SCRIPT = r"""
suppressPackageStartupMessages(library(brms))
a <- commandArgs(TRUE)
text <- strsplit(Sys.getenv("HB_TEXT_COLUMNS"), ",")[[1]]  # kept as text: "01" is a level
d <- read.csv(a[1], colClasses = setNames(rep("character", length(text)), text))
f <- as.formula(a[2])
if (length(a) >= 8) f <- bf(f, as.formula(paste("sigma", a[8])))  # sigma's own formula
start <- Sys.time()
fit <- brm(f, data = d, family = a[3], chains = as.integer(a[4]),
           iter = as.integer(a[5]) + as.integer(a[6]), warmup = as.integer(a[6]),
           cores = as.integer(a[7]), seed = 1, refresh = 0, silent = 2)
wall <- as.numeric(difftime(Sys.time(), start, units = "secs"))
s <- summary(fit)
ess <- c(s$fixed$Bulk_ESS, unlist(lapply(s$random, function(r) r$Bulk_ESS)), s$spec_pars$Bulk_ESS)
cat("WALL", wall, "\n")
cat("ESS", min(ess, na.rm = TRUE), "\n")
cat("DIV", sum(nuts_params(fit, pars = "divergent__")$Value), "\n")
cat("RHAT", max(rhat(fit), na.rm = TRUE), "\n")
for (i in seq_len(nrow(s$fixed))) cat("FIX", rownames(s$fixed)[i], s$fixed$Estimate[i], "\n")
"""


def _pupils(n: int = 25_000, pupils: int = 10_000, schools: int = 80) -> pd.DataFrame:
    """Each pupil at a home school, one test in five taken at another school."""
    rng = np.random.default_rng(13)
    pupil = rng.integers(0, pupils, n)
    home = rng.integers(0, schools, pupils)
    away = rng.random(n) < 0.2
    school = np.where(away, rng.integers(0, schools, n), home[pupil])
    ses = rng.normal(size=n)
    math = 50 + 2 * ses + 6 * rng.normal(size=pupils)[pupil] + 3 * rng.normal(size=schools)[school]
    return pd.DataFrame(
        {
            "math": math + 8 * rng.normal(size=n),
            "ses": ses,
            "pupil": [f"p{i}" for i in pupil],
            "school": [f"s{i}" for i in school],
        }
    )


def _tests_data(name: str, **dtype: type) -> pd.DataFrame:
    """A data set of ``tests/data`` (written by the R script its README names)."""
    return pd.read_csv(Path(__file__).parents[1] / "tests/data" / name, dtype=dtype)


def _wine() -> pd.DataFrame:
    data = pd.read_csv(Path(__file__).parents[1] / "tests/data/wine.csv", dtype={"judge": str})
    data["rating"] = pd.Categorical(data["rating"], ordered=True)
    return data


def _min_ess(posterior, names) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = [float(az.ess(posterior[n]).min()) for n in names if n in posterior]
    return min(values)


def run_hierbayes(
    spec: dict,
    draws: int,
    tune: int,
    chains: int,
    sampler: str = "nutpie",
    parameterization: str = "auto",
    engine: str = "kernel",
) -> tuple[dict, hb.Fit]:
    import hierbayes.model as model_module

    compile_s = 0.0
    original = model_module.compile_nutpie

    def timed_compile(pm_model):
        nonlocal compile_s
        begin = time.perf_counter()
        compiled = original(pm_model)
        compile_s += time.perf_counter() - begin
        return compiled

    start = time.perf_counter()
    model = hb.Model(
        spec["formula"],
        data=spec["data"](),
        level2=spec["level2"](),
        parameterization=parameterization,
        family=spec.get("family", "gaussian"),
        sigma=spec.get("sigma"),
    )
    if engine == "pymc":
        # what Model.fit does for a prior the kernel lacks: compile the PyMC model
        model.compiled_density = lambda: None
    how = sorted({c for choice in model.parameterization.values() for c in choice})
    model_module.compile_nutpie = timed_compile
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hb.ConvergenceWarning)
            fit = model.fit(draws=draws, tune=tune, chains=chains, random_seed=1, sampler=sampler)
    finally:
        model_module.compile_nutpie = original
    wall = time.perf_counter() - start
    post = fit.idata["posterior"]
    sample_s = float(post.attrs.get("sampling_time", np.nan))
    label = f"{sampler}, {engine}" if sampler == "nutpie" else sampler
    return {
        "tool": f"hierbayes ({label}; {parameterization}: {'+'.join(how)})",
        "wall_s": wall,
        "sample_s": sample_s,
        "compile_s": compile_s,
        "other_s": wall - sample_s - compile_s,
        "min_bulk_ess": fit.diagnostics.min_ess_bulk,
        "divergences": fit.diagnostics.divergences,
        "max_rhat": fit.diagnostics.max_rhat,
        # the chains actually run: a default fit that mixes slowly samples more (course_extend)
        "chains": int(post.sizes["chain"]),
    }, fit


def warm_up() -> float:
    """Load (or on a new machine, compile) hierbayes's numba code before timing anything: tiny
    fits; returns their wall time. The second covers what only models with Laplace-integrated
    effects run (grouse ticks's BROOD and LOCATION): their draws after sampling, numba code
    compiled on first use, seconds on a new machine."""
    start = time.perf_counter()
    data = hb.datasets.load("sleepstudy")
    ticks = MODELS["grouseticks"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hb.Model("Reaction ~ Days + (Days | Subject)", data=data).fit(draws=20, tune=20, chains=2)
        laplace = hb.Model(ticks["formula"], data=ticks["data"](), family=ticks["family"])
        laplace.fit(draws=20, tune=20, chains=2)
    return time.perf_counter() - start


def run_bambi(spec: dict, draws: int, tune: int, chains: int, reference: hb.Fit) -> dict:
    import bambi as bmb

    data = spec["data"]()
    level2 = spec["level2"]()
    for factor, table in (level2 or {}).items():
        data = data.merge(table, on=factor, how="left")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        formula = spec["formula"]
        if "sigma" in spec:  # a linear predictor of log sigma too
            formula = bmb.Formula(formula, f"sigma {spec['sigma']}")
        model = bmb.Model(formula, data, family=spec.get("family", "gaussian"))
        # the same cores as hierbayes: PyMC's default would take half the CPUs (it assumes they
        # are hyperthreads) and run 2-core machines' chains one after another
        idata = model.fit(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=CORES,
            random_seed=1,
            progressbar=False,
        )
    wall = time.perf_counter() - start
    post = idata["posterior"]
    population = [
        v
        for v in post.data_vars
        if (not v.endswith("_offset") and "|" not in v) or v.endswith("_sigma")
    ]
    ess = _min_ess(post, population)
    means = {}
    for var in population:
        da = post[var].mean(("chain", "draw"))
        if da.ndim == 0:
            means[var] = float(da)
        else:  # a categorical term: one value per non-reference level
            for level, value in zip(da[da.dims[0]].values, da.values.ravel(), strict=True):
                means[f"{var}[T.{level}]"] = float(value)
    gaps = [
        abs(means[term] - row["mean"]) / row["sd"]
        for term, row in reference.fixef().iterrows()
        if term in means
    ]
    return {
        "tool": "bambi",
        "wall_s": wall,
        "sample_s": np.nan,
        "min_bulk_ess": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "max_rhat": np.nan,
        "chains": int(post.sizes["chain"]),
        "max_gap_sd": max(gaps) if gaps else np.nan,
    }


def _brms_name(term: str) -> str:
    """brms's name of a hierbayes fixed-effect term: ``spp[T.EC-A]`` -> ``sppECMA``,
    ``livch[T.3+]`` -> ``livch3P``."""
    term = term.replace("[T.", "").replace("-", "M").replace("+", "P")
    return re.sub(r"[^A-Za-z0-9]", "", term)


def run_brms(spec: dict, draws: int, tune: int, chains: int, reference: hb.Fit) -> dict | None:
    """brms (Stan) through Rscript; ``None`` when R or brms is missing."""
    if "brms" not in spec or shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data, script = Path(tmp) / "data.csv", Path(tmp) / "fit.R"
        frame = spec["data"]()
        frame.to_csv(data, index=False)
        script.write_text(BRMS_SCRIPT)
        args = [str(data), spec["formula"], spec["brms"], chains, draws, tune, CORES]
        args += [spec["sigma"]] if "sigma" in spec else []
        text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
        env = {**os.environ, "HB_TEXT_COLUMNS": ",".join(text)}
        start = time.perf_counter()
        done = subprocess.run(
            ["Rscript", str(script), *map(str, args)], capture_output=True, text=True, env=env
        )
        wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"# brms failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    out: dict[str, float] = {}
    means: dict[str, float] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "FIX":
            means[parts[1]] = float(parts[2])
        elif parts and parts[0] in ("WALL", "ESS", "DIV", "RHAT"):
            out[parts[0]] = np.nan if parts[1] == "NA" else float(parts[1])
    gaps = [
        abs(means[_brms_name(term)] - row["mean"]) / row["sd"]
        for term, row in reference.fixef().iterrows()
        if _brms_name(term) in means
    ]
    return {
        "tool": "brms (Stan; wall with R start and compile)",
        "wall_s": wall,
        "sample_s": out.get("WALL", np.nan),  # brm() itself: compile + sample
        "min_bulk_ess": out.get("ESS", np.nan),
        "divergences": int(out.get("DIV", 0)),
        "max_rhat": out.get("RHAT", np.nan),
        "chains": chains,
        "max_gap_sd": max(gaps) if gaps else np.nan,
    }


def run_statsmodels(spec: dict) -> dict | None:
    import statsmodels.formula.api as smf

    if spec["statsmodels"] is None:
        return None
    formula, group, re_formula = spec["statsmodels"]
    data = spec["data"]()
    for factor, table in (spec["level2"]() or {}).items():
        data = data.merge(table, on=factor, how="left")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smf.mixedlm(formula, data, groups=data[group], re_formula=re_formula).fit(reml=True)
    return {"tool": "statsmodels REML", "wall_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 chains x 300 draws")
    parser.add_argument("--no-bambi", action="store_true", help="skip bambi")
    parser.add_argument("--no-statsmodels", action="store_true", help="skip statsmodels")
    parser.add_argument("--no-brms", action="store_true", help="skip brms (Rscript)")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--samplers", nargs="*", default=["nutpie"], choices=["nutpie", "pymc", "numpyro"]
    )
    parser.add_argument(
        "--parameterizations",
        nargs="*",
        default=["auto"],
        choices=["auto", "marginal", "centered", "noncentered"],
        help="hierbayes parameterisations to run (each one a separate fit)",
    )
    parser.add_argument(
        "--engines",
        nargs="*",
        default=["kernel"],
        choices=["kernel", "pymc"],
        help="with nutpie: hierbayes's compiled kernel, or the PyMC model compiled by PyTensor",
    )
    parser.add_argument("--draws", type=int, help="draws (and tuning steps) per chain")
    parser.add_argument("--chains", type=int, help="number of chains")
    args = parser.parse_args()
    draws, tune, chains = (300, 300, 2) if args.quick else (1000, 1000, 4)
    draws = tune = args.draws or draws
    chains = args.chains or chains
    with_bambi = not args.no_bambi and importlib.util.find_spec("bambi") is not None
    warm = warm_up()
    rows = []
    for name in args.models:
        spec = MODELS[name]
        fit = None
        for sampler in args.samplers:
            engines = args.engines if sampler == "nutpie" else ["pymc"]
            for how in args.parameterizations:
                for engine in engines:
                    ours, this = run_hierbayes(spec, draws, tune, chains, sampler, how, engine)
                    rows.append({"model": name, **ours})
                    fit = fit or this
        if with_bambi and fit is not None:
            rows.append({"model": name, **run_bambi(spec, draws, tune, chains, fit)})
        if not args.no_brms and fit is not None:
            if (brms := run_brms(spec, draws, tune, chains, fit)) is not None:
                rows.append({"model": name, **brms})
        if not args.no_statsmodels and (reml := run_statsmodels(spec)) is not None:
            rows.append({"model": name, **reml})
    table = pd.DataFrame(rows)
    table["ess_per_s"] = table["min_bulk_ess"] / table["wall_s"]
    bambi = table[table["tool"].str.startswith("bambi")].set_index("model")["ess_per_s"]
    table["x_bambi"] = table["ess_per_s"] / table["model"].map(bambi)
    print(
        f"# {chains} chains x {draws} draws (tune {tune}; the chains column: the chains run); "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; hierbayes's numba code "
        f"loaded (or compiled, on a new machine) in {warm:.1f} s before timing"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
