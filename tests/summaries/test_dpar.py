"""Tables of a model whose residual SD varies: brms's names, and no ICC."""

import numpy as np
import pytest

from hierbayes.errors import SummaryError


def test_fixef_lists_the_sigma_coefficients_after_the_means(sigma_fit):
    table = sigma_fit.fixef()
    assert list(table.index) == ["Intercept", "Days", "sigma_Intercept", "sigma_Days"]
    draws = sigma_fit.idata["posterior"]["b_sigma"].sel(sigma_term="sigma_Days")
    assert table.loc["sigma_Days", "mean"] == pytest.approx(float(draws.mean()), rel=1e-12)
    # the intercept on the original scale: the centred one minus the slope at the mean Days
    post = sigma_fit.idata["posterior"]
    days = sigma_fit.design.dpar.X[:, 1].mean()
    np.testing.assert_allclose(
        post["b_sigma"].sel(sigma_term="sigma_Intercept"),
        post["sigma_Intercept_c"] - days * post["b|sigma_Days"],
        rtol=1e-10,
    )


def test_varcorr_gives_the_sd_of_sigma_effects_by_factor(sigma_fit):
    table = sigma_fit.varcorr()
    rows = table[["factor", "term", "stat"]].values.tolist()
    assert rows == [["Subject", "Intercept", "sd"], ["Subject", "sigma_Intercept", "sd"]]
    draws = sigma_fit.idata["posterior"]["sd|sigma_Subject"]
    assert table["mean"].iloc[1] == pytest.approx(float(draws.mean()), rel=1e-12)
    assert "sigma_Intercept" in str(sigma_fit.summary())


def test_icc_is_refused_with_the_reason_and_r2_is_defined(sigma_fit):
    with pytest.raises(SummaryError, match="No ICC with a residual SD that varies"):
        sigma_fit.icc()
    r2 = sigma_fit.r2()
    assert 0 < r2.loc["marginal", "mean"] < r2.loc["conditional", "mean"] < 1


def test_hypotheses_on_sigma_coefficients_and_sds(sigma_fit):
    table = sigma_fit.hypothesis("sigma_Days > 0")
    draws = sigma_fit.idata["posterior"]["b_sigma"].sel(sigma_term="sigma_Days").values
    assert table["post_prob"].iloc[0] == pytest.approx(float((draws > 0).mean()), abs=1e-12)
    sd = sigma_fit.hypothesis("sd|sigma_Subject[Intercept] > 0.2")
    sd_draws = sigma_fit.idata["posterior"]["sd|sigma_Subject"].values
    assert sd["post_prob"].iloc[0] == pytest.approx(float((sd_draws > 0.2).mean()), abs=1e-12)


def test_shrinkage_weighs_each_row_by_its_precision(sigma_fit):
    from hierbayes.predict.dpar import dpar_rows

    table = sigma_fit.shrinkage()
    post = sigma_fit.idata["posterior"]
    design = sigma_fit.design
    codes = design.blocks[0].codes
    w = (1 / dpar_rows(post.to_dataset(), design) ** 2).mean(axis=(0, 1))
    tau2 = post["sd|Subject"].values[..., 0].ravel() ** 2
    precision = np.bincount(codes, weights=w)  # Σ_i 1/σ_i² of each subject
    expected = (1 / (1 + tau2[:, None] * precision[None, :])).mean(axis=0)
    np.testing.assert_allclose(table["mean"], expected, rtol=1e-10)


def test_varcorr_with_symbols_keeps_the_sigma_rows(sigma_fit):
    table = sigma_fit.varcorr(labels="rb")
    assert table["symbol"].tolist()[-1] == "sd(sigma_Intercept)"
    assert "σ" not in table["symbol"].tolist()  # no single residual SD


def test_convergence_checks_cover_log_sigma_in_its_own_words(sigma_fit):
    from hierbayes.diagnostics import check_convergence

    table = sigma_fit.diagnostics.table
    assert any("sigma_Days" in str(label) for label in table.index)
    idata = sigma_fit.idata.copy()
    post = idata["posterior"].to_dataset()
    shifted = post["b_sigma"].copy()
    shifted[1] = shifted[1] + 1.0  # the second chain far from the first
    idata["posterior"] = idata["posterior"].assign(b_sigma=shifted)
    found = check_convergence(idata, emit=False)
    assert any("sigma_Days (log residual SD)" in w for w in found.warnings)


def test_effects_and_group_lines_read_the_mean_without_a_scalar_sigma(sigma_fit):
    # the mean of a gaussian model does not involve σ: the response scale equals the linear one
    table = sigma_fit.conditional_effects("Days", grid=[0, 5])
    b = sigma_fit.idata["posterior"]["b"]
    expected = (b.sel(term="Intercept") + 5 * b.sel(term="Days")).mean().item()
    assert table["mean"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    lines = sigma_fit.group_lines("Days")
    assert len(lines) > 0
