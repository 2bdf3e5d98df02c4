"""Each row's residual SD with sigma="~ ...": predict(dpar="sigma"), predictive draws,
log-likelihood and simulated new groups use it."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hierbayes.errors import ArgumentError


def _flat(da):
    return np.asarray(da.transpose("chain", "draw", ...).values).reshape(-1, *da.shape[2:])


def _by_hand(fit):
    """σ of every training row and draw from b_sigma and u|sigma_Subject, (S, n)."""
    post = fit.idata["posterior"]
    design = fit.design
    b = _flat(post["b_sigma"].sel(sigma_term=["sigma_Intercept", "sigma_Days"]))
    u = _flat(post["u|sigma_Subject"].sel(Subject=list(design.dpar.blocks[0].levels)))[..., 0]
    return np.exp(b @ design.dpar.X.T + u[:, design.dpar.blocks[0].codes])


def test_dpar_sigma_on_the_training_rows_is_exp_of_its_linear_predictor(sigma_fit):
    got = sigma_fit.predict(dpar="sigma")
    np.testing.assert_allclose(_flat(got), _by_hand(sigma_fit), rtol=1e-12)
    assert got.name == "sigma" and got.attrs["dpar"] == "sigma"
    log = sigma_fit.predict(dpar="sigma", kind="linear")
    np.testing.assert_allclose(_flat(log), np.log(_by_hand(sigma_fit)), rtol=1e-12)


def test_dpar_sigma_for_new_data_population_and_new_groups(sigma_fit):
    post = sigma_fit.idata["posterior"]
    b = _flat(post["b_sigma"])
    new = pd.DataFrame({"Days": [0, 9], "Subject": ["x", "x"]})
    pop = _flat(sigma_fit.predict(new, dpar="sigma", groups="population"))
    np.testing.assert_allclose(pop, np.exp(b @ np.array([[1.0, 0.0], [1.0, 9.0]]).T), rtol=1e-12)
    fresh = _flat(sigma_fit.predict(new, dpar="sigma", groups="new", random_seed=2))
    # one new group: both rows share its effect on log σ, drawn with the estimated SD
    effect = np.log(fresh) - np.log(pop)
    np.testing.assert_allclose(effect[:, 0], effect[:, 1], atol=1e-12)
    sd = _flat(post["sd|sigma_Subject"])[:, 0]
    z = effect[:, 0] / sd
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 4 / np.sqrt(2 * len(z))


def test_bad_dpar_requests_are_typed_errors(sigma_fit):
    with pytest.raises(ArgumentError, match=r"dpar='nu'.*parameters are \['sigma'\]"):
        sigma_fit.predict(dpar="nu")
    with pytest.raises(ArgumentError, match=r"takes kind='mean'.*not 'pps'"):
        sigma_fit.predict(dpar="sigma", kind="pps")


def test_dpar_sigma_without_a_formula_is_the_one_sigma(sleep_fit):
    got = _flat(sleep_fit.predict(sleep_fit.model.design.data.head(3), dpar="sigma"))
    expected = _flat(sleep_fit.idata["posterior"]["sigma"])
    np.testing.assert_array_equal(got, np.repeat(expected[:, None], 3, axis=1))


def test_predictive_draws_spread_with_each_subjects_sigma(sigma_fit):
    pps = _flat(sigma_fit.predict(kind="pps", random_seed=3))
    mean = _flat(sigma_fit.predict(kind="mean"))
    sigma = _by_hand(sigma_fit)
    codes = sigma_fit.design.blocks[0].codes
    ratios = [
        np.mean((pps - mean)[:, codes == j] ** 2) / np.mean(sigma[:, codes == j] ** 2)
        for j in range(18)
    ]
    # each ratio is a mean of 5,000 squared normals over their variance: SE about 2%
    assert np.max(np.abs(np.array(ratios) - 1)) < 0.12
    # the subjects do differ in spread: one σ for all would be far off for some of them
    by_subject = [np.sqrt(np.mean(sigma[:, codes == j] ** 2)) for j in range(18)]
    assert max(by_subject) / min(by_subject) > 2


def test_pointwise_log_likelihood_uses_each_rows_sigma(sigma_fit):
    table = _flat(sigma_fit.idata["log_likelihood"]["Reaction"])
    mean = _flat(sigma_fit.predict(kind="mean"))
    expected = stats.norm.logpdf(sigma_fit.design.y, mean, _by_hand(sigma_fit))
    np.testing.assert_allclose(table, expected, rtol=1e-10)


def test_new_groups_draw_their_own_sigma_effects(sigma_fit):
    x = pd.DataFrame({"Days": [0]})
    sim = sigma_fit.simulate_new_groups(3000, x=x, observations=True, random_seed=4)
    data = sim.data
    post = sigma_fit.idata["posterior"]
    chain, draw = data["chain"].to_numpy(), data["draw"].to_numpy()
    intercept = post["b_sigma"].sel(sigma_term="sigma_Intercept").values[chain, draw]
    sd = post["sd|sigma_Subject"].values[chain, draw, 0]
    z = (np.log(data["sigma"]) - intercept) / sd
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 4 / np.sqrt(2 * len(z))
    r = (data["Reaction"] - data["mean"]) / data["sigma"]
    assert abs(r.std() - 1) < 4 / np.sqrt(2 * len(r))
