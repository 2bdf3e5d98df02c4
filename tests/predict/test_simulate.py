"""simulate_new_groups() and plot_new_groups() (hand-made posteriors, no sampling)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import DataError, Level2Error, SummaryError
from hierbayes.predict import predict, simulate_new_groups
from hierbayes.predict.draws import new_group_effects


@pytest.fixture(scope="module")
def level2_fit() -> hb.Fit:
    rng = np.random.default_rng(7)
    school = np.repeat(np.arange(1, 9), 6)
    students = pd.DataFrame(
        {"y": rng.normal(size=48), "cses": rng.normal(size=48), "school": school}
    )
    schools = pd.DataFrame(
        {
            "school": np.arange(1, 9),
            "meanses": np.linspace(-1, 1, 8),
            "sector": ["Public", "Catholic"] * 4,
        }
    )
    model = hb.Model(
        "y ~ cses * (meanses + sector) + (1 + cses | school)",
        data=students,
        level2={"school": schools},
    )
    return fake_fit(model, draws=1000, sd={"school": [1.5, 0.4]}, rho={"school": -0.5})


def test_coefficients_are_population_plus_effect_of_the_recorded_draw(level2_fit: hb.Fit) -> None:
    sim = simulate_new_groups(
        level2_fit, 50, level2={"meanses": 0.0, "sector": "Public"}, random_seed=1
    )
    table = sim.coefficients
    assert list(table.columns) == ["group", "chain", "draw", "term", "effect", "coefficient"]
    assert len(table) == 100 and table["group"].nunique() == 50
    b = level2_fit.idata["posterior"]["b"]
    for row in table.head(6).itertuples():
        base = float(b.sel(chain=row.chain, draw=row.draw, term=row.term))
        assert row.coefficient == pytest.approx(base + row.effect, rel=1e-12)


def test_effects_have_the_posterior_mean_covariance(level2_fit: hb.Fit) -> None:
    n = 40_000
    sim = simulate_new_groups(
        level2_fit, n, level2={"meanses": 0.0, "sector": "Public"}, random_seed=2
    )
    wide = sim.coefficients.pivot(index="group", columns="term", values="effect")
    u0, u1 = wide["Intercept"].to_numpy(), wide["cses"].to_numpy()
    post = level2_fit.idata["posterior"]
    sd = post["sd|school"].values.reshape(-1, 2)
    cor = post["cor|school"].values.reshape(-1, 2, 2)[:, 0, 1]
    t00, t11, t01 = sd[:, 0] ** 2, sd[:, 1] ** 2, sd[:, 0] * sd[:, 1] * cor
    # each group picks a posterior draw at random, so E[u u'] = mean(T); MC SE of the mean of
    # products is sqrt(E[T00 T11 + T01^2] / n) for the covariance, sqrt(2 E[Tkk^2] / n) for
    # variances (4 SE tolerances)
    assert abs(np.mean(u0 * u1) - t01.mean()) < 4 * np.sqrt(np.mean(t00 * t11 + t01**2) / n)
    assert abs(np.mean(u0**2) - t00.mean()) < 4 * np.sqrt(2 * np.mean(t00**2) / n)
    assert abs(np.mean(u1**2) - t11.mean()) < 4 * np.sqrt(2 * np.mean(t11**2) / n)


def test_rows_equal_hand_computation(level2_fit: hb.Fit) -> None:
    x = pd.DataFrame({"cses": [-1.0, 0.0, 2.0]})
    sim = simulate_new_groups(
        level2_fit, 4, x=x, level2={"meanses": 0.5, "sector": "Catholic"}, random_seed=3
    )
    data = sim.data
    assert len(data) == 12 and list(data["row"][:3]) == [0, 1, 2]
    b = level2_fit.idata["posterior"]["b"]
    effects = sim.coefficients.pivot(index="group", columns="term", values="effect")
    for row in data.itertuples():
        bb = b.sel(chain=row.chain, draw=row.draw)
        catholic = 0.0  # sector's reference level is Catholic (alphabetical)
        fixed = (
            bb.sel(term="Intercept")
            + bb.sel(term="cses") * row.cses
            + bb.sel(term="meanses") * 0.5
            + bb.sel(term="sector[T.Public]") * catholic
            + bb.sel(term="cses:meanses") * row.cses * 0.5
            + bb.sel(term="cses:sector[T.Public]") * row.cses * catholic
        )
        u = effects.loc[row.group]
        expected = float(fixed) + u["Intercept"] + u["cses"] * row.cses
        assert row.linear == pytest.approx(expected, rel=1e-10)
        assert row.mean == row.linear


def test_observations_add_residual_noise(level2_fit: hb.Fit) -> None:
    sim = simulate_new_groups(
        level2_fit,
        4000,
        x=pd.DataFrame({"cses": [0.0]}),
        level2="sample",
        observations=True,
        random_seed=4,
    )
    data = sim.data
    sigma = level2_fit.idata["posterior"]["sigma"]
    scale = np.array(
        [
            float(sigma.sel(chain=c, draw=d))
            for c, d in zip(data["chain"], data["draw"], strict=True)
        ]
    )
    z = (data["y"] - data["mean"]) / scale
    assert abs(z.mean()) < 4 / np.sqrt(4000)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / 4000)


def test_level2_sample_draws_training_groups(level2_fit: hb.Fit) -> None:
    sim = simulate_new_groups(level2_fit, 200, level2="sample", random_seed=5)
    pairs = set(zip(sim.groups["meanses"], sim.groups["sector"], strict=True))
    schools = level2_fit.design.data.groupby("school")[["meanses", "sector"]].first()
    assert pairs <= set(zip(schools["meanses"], schools["sector"], strict=True))
    assert len(pairs) > 4


def test_level2_is_required_and_checked(level2_fit: hb.Fit) -> None:
    with pytest.raises(Level2Error, match=r"level-2 predictor\(s\) meanses, sector"):
        simulate_new_groups(level2_fit, 5)
    with pytest.raises(Level2Error, match="one per new group"):
        simulate_new_groups(level2_fit, 5, level2=pd.DataFrame({"meanses": [0.0]}))


def test_n_per_group_resamples_training_rows(level2_fit: hb.Fit) -> None:
    sim = simulate_new_groups(level2_fit, 10, n_per_group=3, level2="sample", random_seed=6)
    assert sim.data.groupby("group").size().eq(3).all()
    assert set(sim.data["cses"]) <= set(level2_fit.design.data["cses"])
    with pytest.raises(ValueError, match="not both"):
        simulate_new_groups(level2_fit, 2, n_per_group=3, x=pd.DataFrame({"cses": [0.0]}))


def test_bad_arguments_are_typed_errors(level2_fit: hb.Fit) -> None:
    """Each argument error is a hb.ArgumentError (still a ValueError/TypeError) naming it."""
    kw = {"level2": "sample"}
    with pytest.raises(hb.ArgumentError, match="x must be a non-empty DataFrame"):
        simulate_new_groups(level2_fit, 2, x=np.array([0.0, 1.0]), **kw)
    with pytest.raises(hb.ArgumentError, match="observations=True needs rows"):
        simulate_new_groups(level2_fit, 2, observations=True, **kw)
    with pytest.raises(hb.ArgumentError, match="n_per_group must be a positive integer"):
        simulate_new_groups(level2_fit, 2, n_per_group=0, **kw)
    with pytest.raises(hb.ArgumentError, match="not both"):
        simulate_new_groups(level2_fit, 2, n_per_group=3, x=pd.DataFrame({"cses": [0.0]}))
    with pytest.raises(hb.ArgumentError, match="level2 must be a dict, a DataFrame or 'sample'"):
        simulate_new_groups(level2_fit, 2, level2="all")
    with pytest.raises(hb.ArgumentError, match="level2 must be a dict, a DataFrame or 'sample'"):
        simulate_new_groups(level2_fit, 2, level2=[0.0])


def test_same_seed_same_groups(level2_fit: hb.Fit) -> None:
    kwargs = {"x": pd.DataFrame({"cses": [0.0, 1.0]}), "level2": "sample", "observations": True}
    a = simulate_new_groups(level2_fit, 20, random_seed=9, **kwargs)
    b = simulate_new_groups(level2_fit, 20, random_seed=9, **kwargs)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)


def test_new_labels_never_collide_with_known_ones() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["new1", "new1", "new2", "new2"]})
    fit = fake_fit(hb.Model("y ~ 1 + (1 | g)", data=data), draws=10)
    sim = simulate_new_groups(fit, 2, random_seed=1)
    assert not set(sim.groups["group"]) & {"new1", "new2"}


def test_several_factors_need_a_choice() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"y": rng.normal(size=12), "a": list("ababababcccc"), "item": list("xyzxyzxyzxyz")}
    )
    fit = fake_fit(hb.Model("y ~ 1 + (1 | a) + (1 | item)", data=data), draws=10)
    with pytest.raises(DataError, match="several grouping factors"):
        simulate_new_groups(fit, 3)
    assert simulate_new_groups(fit, 3, factor="item").factor == "item"


def test_new_group_effects_function() -> None:
    rng = np.random.default_rng(1)
    u = new_group_effects(np.array([[1.0, 2.0]]), None, 50_000, rng)[0]
    assert abs(np.corrcoef(u.T)[0, 1]) < 4 / np.sqrt(50_000)
    assert abs(u[:, 1].var() - 4.0) < 4 * np.sqrt(2 / 50_000) * 4.0
    # a correlation at exactly 1 still works (symmetric square root)
    u = new_group_effects(np.array([1.0, 1.0]), np.ones((2, 2)), 1000, rng)
    np.testing.assert_allclose(u[:, 0], u[:, 1], atol=1e-7)


def test_plot_new_groups(level2_fit: hb.Fit) -> None:
    fig, axes = level2_fit.plot_new_groups(
        n_groups=30, level2={"meanses": 0.2, "sector": "Public"}, random_seed=1
    )
    ax = axes[0]
    assert len(ax.lines) == 33  # 30 groups + the average group and the two edges of its band
    average, grid = ax.lines[-1].get_ydata(), ax.lines[-1].get_xdata()
    rows = pd.DataFrame({"cses": grid, "meanses": 0.2, "sector": "Public"})
    expected = predict(level2_fit, rows, groups="population", summary=True)["mean"]
    np.testing.assert_allclose(average, expected.to_numpy())
    sim = simulate_new_groups(
        level2_fit,
        30,
        x=pd.DataFrame({"cses": grid}),
        level2={"meanses": 0.2, "sector": "Public"},
        random_seed=1,
    )
    first = sim.data[sim.data["group"] == sim.data["group"].iloc[0]]["mean"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), first.to_numpy())
    plt.close(fig)
    # default level-2 values: meanses at its mean over schools, said in words, not printed
    fig, axes = level2_fit.plot_new_groups(n_groups=5, random_seed=1)
    assert "meanses at its mean" in axes[0].get_title()
    assert "meanses =" not in axes[0].get_title()
    plt.close(fig)
    with pytest.raises(SummaryError, match="numeric level-1 predictor"):
        level2_fit.plot_new_groups("meanses")
