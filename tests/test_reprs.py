"""Text and HTML displays of Model, Fit and SimulatedGroups."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from fakes import fake_fit

import hierbayes as hb
from hierbayes.diagnostics import Diagnostics
from hierbayes.reprs import _html, model_html


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"y": rng.normal(size=30), "x": rng.normal(size=30), "g": np.repeat(["a<b", "c", "d"], 10)}
    )


def test_model_repr_shows_formula_family_groups_and_priors() -> None:
    model = hb.Model("y ~ x + (1 | g)", data=_data())
    text = repr(model)
    assert text.splitlines()[:5] == [
        "<hierbayes.Model>",
        "  formula  y ~ x + (1 | g)",
        "  family   gaussian (link: identity)",
        "  data     30 observations",
        "  groups   g (3 groups)",
    ]
    assert "priors:" in text and "sd|g" in text and "HalfNormal" in text
    page = model._repr_html_()
    assert "y ~ x + (1 | g)" in page and "g (3 groups)" in page
    assert page.count("<tr>") >= 4 + len(model.priors)  # header rows and one row per prior


def test_fit_repr_shows_draws_status_and_fixed_effects() -> None:
    fit = fake_fit(hb.Model("y ~ x + (1 | g)", data=_data()), b={"Intercept": 2.0, "x": -0.5})
    text = repr(fit)
    assert "  formula      y ~ x + (1 | g)" in text
    assert "  draws        2 chains x 500 draws (nutpie)" in text
    assert "  diagnostics  ok" in text
    fixed = fit.fixef()
    intercept = re.search(r"\n +Intercept +(\S+) +(\S+)", text)
    assert intercept is not None
    # the estimate at the precision of its posterior SD (about 0.1 here: 2 decimals)
    assert intercept.group(1) == f"{fixed.loc['Intercept', 'mean']:.2f}"
    page = fit._repr_html_()
    assert "y ~ x + (1 | g)" in page and "Fixed effects" in page
    assert f"<th>Intercept</th>\n      <td>{fixed.loc['Intercept', 'mean']:.2f}</td>" in page


def test_fit_repr_names_convergence_problems() -> None:
    fit = fake_fit(hb.Model("y ~ x + (1 | g)", data=_data()))
    table = pd.DataFrame({"r_hat": [1.2], "ess_bulk": [50.0], "ess_tail": [40.0]}, index=["sigma"])
    troubled = hb.Fit(
        idata=fit.idata,
        model=fit.model,
        diagnostics=Diagnostics(table, 3, ("R-hat is 1.200", "ESS low")),
        sampler="nutpie",
    )
    assert "2 convergence problems (max R-hat 1.20, 3 divergent)" in repr(troubled)


def test_html_escapes_user_text() -> None:
    page = _html("t", [("formula", "y ~ <script>x</script>")], [("T", pd.DataFrame({"<c>": [1]}))])
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;c&gt;" in page
    model = hb.Model("y ~ x + (1 | g)", data=_data())
    assert "<b>hierbayes.Model</b>" in model_html(model)


def test_simulated_groups_repr_is_a_short_summary() -> None:
    fit = fake_fit(hb.Model("y ~ x + (1 | g)", data=_data()), b={"Intercept": 2.0})
    sim = fit.simulate_new_groups(50, random_seed=1)
    text = repr(sim)
    assert text.startswith("<SimulatedGroups: 50 new 'g' groups>")
    assert len(text.splitlines()) == 4
    mean = sim.coefficients.groupby("term")["coefficient"].mean()["Intercept"]
    assert f"Intercept {mean:.3g}" in text


def test_a_fit_without_fixed_effects_shows_no_empty_table() -> None:
    fit = fake_fit(hb.Model("y ~ 0 + (1 | g)", data=_data()))
    assert "fixed effects" not in repr(fit) and "Fixed effects" not in fit._repr_html_()
    assert "  groups       g (3 groups)" in repr(fit)


def test_reprs_say_how_the_effects_were_sampled_in_the_summarys_words() -> None:
    model = hb.Model("y ~ x + (1 + x | g)", data=_data(), parameterization="noncentered")
    assert "  effects  g: non-centred" in repr(model).splitlines()
    marginal = hb.Model("y ~ x + (1 | g)", data=_data(), parameterization="marginal")
    assert "  effects  g: integrated out, drawn exactly afterwards" in repr(marginal)
    data = _data().assign(k=lambda d: (d["y"] > 0).astype(float))
    for how in ("laplace", "agq"):
        binary = hb.Model("k ~ x + (1 | g)", data=data, family="bernoulli", parameterization=how)
        words = "by Laplace" if how == "laplace" else "by adaptive Gauss-Hermite quadrature"
        assert f"  effects  g: integrated out {words}" in repr(binary)
    fit = fake_fit(model)
    summary = dict(fit.summary().header)["Effects"]
    assert f"  effects      {summary}" in repr(fit).splitlines()
    assert f"<th>effects</th><td>{summary}</td>" in fit._repr_html_()


def test_fit_repr_says_sampling_was_run_again_and_extended() -> None:
    fit = fake_fit(hb.Model("y ~ x + (1 | g)", data=_data()))
    assert "sampling" not in repr(fit)  # a plain run says nothing
    posterior = fit.idata["posterior"]
    posterior.attrs["sampling_notes"] = (
        "The first run failed (3 divergent transitions, R-hat <= 1.01), so sampling was run "
        "again: raised target_accept from 0.8 to 0.95 (smaller steps)."
    )
    posterior.attrs["requested_chains"] = 1
    line = "run again; extended from 1 to 2 chains (it mixed slowly): see fit.summary() for why"
    assert f"  sampling     {line}" in repr(fit).splitlines()
    assert f"<th>sampling</th><td>{line}</td>" in fit._repr_html_()
