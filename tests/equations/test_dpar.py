"""Equations of a model whose residual SD has its own linear predictor."""

import hierbayes as hb


def test_a_log_sigma_line_and_a_row_varying_residual_variance():
    m = hb.Model(
        "Reaction ~ Days + (1 | Subject)",
        data=hb.datasets.load("sleepstudy"),
        sigma="~ Days + (1 + Days | Subject)",
    )
    text = str(m.equations())
    assert "r_ij ~ N(0, σ_i²)" in text
    assert (
        "log σ_i = sigma_Intercept + sigma_Days·Days_i + s_j^Subject,Intercept[i] + "
        "s_j^Subject,Days[i]·Days_i"
    ) in text
    assert "s_j^Subject,Days ~ N(0, sd(sigma_Days | Subject)²)" in text
    assert "correlated across Subject: cor|sigma_Subject" in text
    assert "sd|sigma_Subject ~ HalfNormal(sigma=[1, 0.347])" in text
    latex = m.equations().to_latex()
    assert r"\log \sigma_i = \text{sigma\_Intercept}" in latex
