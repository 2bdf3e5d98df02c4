"""Response families: the registry, links, latent variances and response validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import expit

from hierbayes.errors import FamilyError, SummaryError
from hierbayes.families import FAMILIES, Family, get_family


@pytest.mark.parametrize(
    ("name", "link", "has_sigma", "needs_trials"),
    [
        ("gaussian", "identity", True, False),
        ("bernoulli", "logit", False, False),
        ("binomial", "logit", False, True),
        ("poisson", "log", False, False),
        ("student_t", "identity", True, False),
        ("gamma", "log", False, False),
        ("lognormal", "identity", True, False),
    ],
)
def test_get_family(name, link, has_sigma, needs_trials):
    family = get_family(name)
    assert isinstance(family, Family)
    assert family.name == name
    assert family.link == link
    assert family.has_sigma is has_sigma
    assert family.needs_trials is needs_trials
    assert get_family(name.upper()) is family
    assert get_family(family) is family
    assert FAMILIES[name] is family


def test_families_registry():
    assert sorted(FAMILIES) == [
        "bernoulli",
        "beta",
        "binomial",
        "cumulative",
        "gamma",
        "gaussian",
        "lognormal",
        "negativebinomial",
        "poisson",
        "student_t",
        "zero_inflated_negativebinomial",
        "zero_inflated_poisson",
    ]


@pytest.mark.parametrize("name", ["weibull", "normal", "", "logistic"])
def test_unknown_family(name):
    with pytest.raises(
        FamilyError,
        match=rf"Unknown family '{name}'; choose one of bernoulli, beta, binomial, cumulative, "
        r"gamma, gaussian, lognormal, negativebinomial, poisson, student_t, "
        r"zero_inflated_negativebinomial, zero_inflated_poisson\.",
    ):
        get_family(name)


def test_unknown_family_non_string():
    with pytest.raises(FamilyError, match=r"Unknown family 3;"):
        get_family(3)


ETA = np.array([-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gaussian", ETA),
        ("bernoulli", 1 / (1 + np.exp(-ETA))),
        ("binomial", expit(ETA)),
        ("poisson", np.exp(ETA)),
    ],
)
def test_inverse_links(name, expected):
    np.testing.assert_allclose(get_family(name).inverse_link(ETA), expected, rtol=1e-12)


def test_logit_inverse_link_is_stable_and_bounded():
    p = get_family("bernoulli").inverse_link(np.array([-800.0, 0.0, 800.0]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [0.0, 0.5, 1.0])


def test_latent_variances():
    group_var = np.array([[0.5], [1.0]])
    fixed = np.array([[0.2], [-0.3]])
    sigma = np.array([2.0, 3.0])
    gaussian = get_family("gaussian").latent_variance(lambda: fixed, group_var, {"sigma": sigma})
    np.testing.assert_allclose(gaussian, [[4.0], [9.0]])
    for name in ("bernoulli", "binomial", "cumulative"):  # the latent logistic variable
        value = get_family(name).latent_variance(lambda: fixed, group_var, {})
        np.testing.assert_allclose(value, np.pi**2 / 3)
    # poisson: log(1 + 1/λ), λ = exp(fixed + τ²/2) (Nakagawa, Johnson & Schielzeth 2017)
    poisson = get_family("poisson").latent_variance(lambda: fixed, group_var, {})
    np.testing.assert_allclose(poisson, np.log1p(np.exp(-(fixed + group_var / 2))))
    # negative binomial: log(1 + 1/λ + 1/φ), the same lognormal approximation
    shape = np.array([2.0, 0.5])
    nb = get_family("negativebinomial").latent_variance(lambda: fixed, group_var, {"shape": shape})
    lam = np.exp(fixed + group_var / 2)
    np.testing.assert_allclose(nb, np.log1p(1 / lam + 1 / shape[:, None]))
    # Student-t: the residual variance σ²ν/(ν-2)
    nu = np.array([3.0, 12.0])
    own = {"sigma": sigma, "nu": nu}
    t = get_family("student_t").latent_variance(lambda: fixed, group_var, own)
    np.testing.assert_allclose(t, [[4.0 * 3.0], [9.0 * 12.0 / 10.0]])
    # gamma: trigamma(α), the variance of log y given μ (Nakagawa et al. 2017)
    gamma = get_family("gamma").latent_variance(lambda: fixed, group_var, {"shape": shape})
    rng = np.random.default_rng(1)
    for k, a in enumerate(shape):
        log_y = np.log(rng.gamma(a, 1.0, 200_000))
        sq = (log_y - log_y.mean()) ** 2
        assert abs(sq.mean() - gamma[k, 0]) < 5 * sq.std() / np.sqrt(sq.size)
    # lognormal: σ², the variance of log y
    lognormal = get_family("lognormal").latent_variance(lambda: fixed, group_var, {"sigma": sigma})
    np.testing.assert_allclose(lognormal, [[4.0], [9.0]])


def test_student_t_latent_variance_needs_nu_above_two():
    own = {"sigma": np.array([1.0, 1.0, 1.0]), "nu": np.array([5.0, 1.5, 2.0])}
    with pytest.raises(SummaryError, match=r"infinite for ν ≤ 2, and 2 of 3 posterior draws"):
        get_family("student_t").latent_variance(lambda: None, np.ones((3, 1)), own)


@pytest.mark.parametrize("name", ["gamma", "lognormal"])
def test_positive_families_name_the_column_and_the_bad_values(name):
    y = np.array([1.5, 0.0, 2.0, -3.0, 0.0])
    with pytest.raises(
        FamilyError,
        match=rf"Response 'cost' does not fit the {name} family: values must be positive "
        r"\(> 0\); 3 are not: \[-3\.0, 0\.0\]",
    ):
        get_family(name).validate_response(y, None, "cost")


def test_lognormal_mean_needs_sigma():
    eta = np.array([0.0, 1.0])
    mean = get_family("lognormal").expected(eta, {"sigma": np.array([0.5])})
    np.testing.assert_allclose(mean, np.exp(eta + 0.125))
    with pytest.raises(FamilyError, match=r"lognormal family needs its own parameters \(sigma\)"):
        get_family("lognormal").expected(eta)


def test_links_are_looked_up_by_name():
    assert get_family("bernoulli", link="logit") is FAMILIES["bernoulli"]
    assert get_family(FAMILIES["poisson"], link="log") is FAMILIES["poisson"]
    with pytest.raises(FamilyError, match=r"The poisson family has no link 'identity'; choose one"):
        get_family("poisson", link="identity")


def test_codes_are_distinct():
    codes = [f.code for f in FAMILIES.values()]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("name", "y", "trials"),
    [
        ("gaussian", [-1.5, 0.0, 3.2], None),
        ("bernoulli", [0.0, 1.0, 1.0], None),
        ("bernoulli", [1.0, 1.0, 1.0], None),
        ("binomial", [0.0, 3.0, 5.0], [5.0, 3.0, 5.0]),
        ("binomial", [0.0, 0.0], [0.0, 0.0]),
        ("poisson", [0.0, 7.0, 120.0], None),
    ],
)
def test_valid_responses(name, y, trials):
    trials = None if trials is None else np.asarray(trials)
    assert get_family(name).validate_response(np.asarray(y), trials, "r") is None


@pytest.mark.parametrize(
    ("name", "y", "trials", "match"),
    [
        (
            "bernoulli",
            [0.0, 1.0, 2.0, 3.0],
            None,
            r"Response 'r' does not fit the bernoulli family: a bernoulli response must be 0 or 1 "
            r"\(or True/False\); found \[2\.0, 3\.0\]\.",
        ),
        ("bernoulli", [-1.0, 0.0], None, r"found \[-1\.0\]"),
        (
            "poisson",
            [0.0, -1.0, 2.0],
            None,
            r"Response 'r' does not fit the poisson family: counts must be non-negative integers; "
            r"found \[-1\.0\]\.",
        ),
        ("poisson", [0.5, 1.0, 2.5], None, r"non-negative integers; found \[0\.5, 2\.5\]"),
        ("binomial", [0.0, -1.0], [2.0, 2.0], r"binomial family: counts must be non-negative"),
        ("binomial", [0.0, 1.5], [2.0, 2.0], r"found \[1\.5\]"),
        ("binomial", [0.0, 1.0], [2.0, -1.0], r"number of trials must be a non-negative integer"),
        ("binomial", [0.0, 1.0], [2.0, 2.5], r"number of trials must be a non-negative integer"),
        ("binomial", [0.0, 3.0, 9.0], [2.0, 2.0, 2.0], r"successes exceed trials \(row 1: 3 > 2\)"),
        (
            "binomial",
            [1.0],
            None,
            r"The binomial family needs the number of trials: write 'r \| trials\(n\) ~ \.\.\.' or "
            r"pass trials='n'\.",
        ),
    ],
)
def test_invalid_responses(name, y, trials, match):
    trials = None if trials is None else np.asarray(trials)
    with pytest.raises(FamilyError, match=match):
        get_family(name).validate_response(np.asarray(y), trials, "r")


def test_bernoulli_lists_at_most_five_bad_values():
    y = np.arange(2.0, 12.0)
    with pytest.raises(FamilyError, match=r"found \[2\.0, 3\.0, 4\.0, 5\.0, 6\.0\]\.$"):
        get_family("bernoulli").validate_response(y, None, "r")


def test_family_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"cannot assign to field 'link'"):
        get_family("gaussian").link = "log"


def test_bernoulli_and_binomial_offer_probit_and_cloglog():
    from hierbayes.families import OTHER_LINKS, links_of

    assert links_of("bernoulli") == links_of("binomial") == ("logit", "cloglog", "probit")
    assert links_of("poisson") == ("log",)
    codes = {(f.name, f.link): f.code for f in OTHER_LINKS}
    assert codes == {
        ("bernoulli", "probit"): 11,
        ("bernoulli", "cloglog"): 12,
        ("binomial", "probit"): 13,
        ("binomial", "cloglog"): 14,
        ("cumulative", "probit"): 16,
    }
    assert links_of("cumulative") == ("logit", "probit")
    every = [f.code for f in (*FAMILIES.values(), *OTHER_LINKS)]
    assert len(set(every)) == len(every)
    probit = get_family("Bernoulli", link="PROBIT")
    assert (probit.name, probit.link, probit.needs_trials) == ("bernoulli", "probit", False)
    assert get_family(probit) is probit
    assert get_family(probit, link="logit") is FAMILIES["bernoulli"]
    assert get_family("binomial", link="cloglog").needs_trials
    with pytest.raises(
        FamilyError, match=r"The binomial family has no link 'log'; choose one of logit, cloglog, "
    ):
        get_family("binomial", link="log")


def test_the_cumulative_mean_needs_the_cut_points():
    with pytest.raises(FamilyError, match=r"needs its cut-points as well.*kind='prob'"):
        get_family("cumulative").inverse_link(np.zeros(2))
