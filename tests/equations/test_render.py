"""equations(): golden text (Unicode and LaTeX) and the consistency of every index it prints."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.equations import equations, get_notation
from hierbayes.equations.math import WIDTH

HSB_FORMULA = "mAch ~ cses * (meanses + sector) + (1 + cses | school)"


@pytest.fixture(scope="module")
def hsb_model(hsb_students) -> hb.Model:
    schools = hb.datasets.load("hsb_schools")
    return hb.Model(
        HSB_FORMULA,
        data=hsb_students.drop(columns=["meanses", "sector"]),
        level2={"school": schools},
    )


@pytest.fixture(scope="module")
def classes() -> pd.DataFrame:
    """3 schools x 2 classes x 3 pupils; class labels repeat across schools."""
    rng = np.random.default_rng(3)
    school = np.repeat(["a", "b", "c"], 6)
    klass = np.tile(np.repeat([1, 2], 3), 3)
    big_x = np.repeat(rng.normal(size=6), 3)
    w = np.repeat(rng.normal(size=3), 6)
    x = rng.normal(size=18)
    y = w + big_x + x + rng.normal(size=18)
    return pd.DataFrame({"school": school, "class": klass, "x": x, "X": big_x, "W": w, "y": y})


# -- golden text ------------------------------------------------------------------------------

SLEEP_RB = """\
Level 1 (observation i):
  Reaction_ij = β_0j + β_1j·Days_ij + r_ij,   r_ij ~ N(0, σ²)
Level 2 (Subject j):
  β_0j = γ_00 + u_0j
  β_1j = γ_10 + u_1j
  (u_0j, u_1j)ᵀ ~ N(0, T),   T = [[τ_00, τ_01], [τ_01, τ_11]]
Combined:
  Reaction_ij = γ_00 + γ_10·Days_ij + u_0j + u_1j·Days_ij + r_ij,   r_ij ~ N(0, σ²)
Priors:
  γ_00 ~ Normal(mu=298.5, sigma=140.8)   [Intercept, at the means of the predictors]
  γ_10 ~ Normal(mu=0, sigma=48.89)   [b|Days]
  √τ_00 ~ HalfNormal(sigma=56.33)   [sd|Subject]
  √τ_11 ~ HalfNormal(sigma=19.56)   [sd|Subject]
  corr(u_0j, u_1j) ~ LKJ(eta=2)   [cor|Subject]
  σ ~ HalfStudentT(nu=3, sigma=56.33)   [sigma]"""

SLEEP_GH_COMBINED = """\
Combined:
  Reaction_i = μ_α + μ_β·Days_i + η_j[i]^α + η_j[i]^β·Days_i + ε_i,   ε_i ~ N(0, σ_y²)
  (η_j^α, η_j^β)ᵀ ~ N(0, Σ),   Σ = [[σ_α², ρ_αβ·σ_α·σ_β], [ρ_αβ·σ_α·σ_β, σ_β²]]"""

SLEEP_RB_LATEX = r"""\begin{aligned}
&\textbf{Level 1}\ \text{(observation }i\text{)} \\
&\quad \text{Reaction}_{ij} = \beta_{0j} + \beta_{1j}\,\text{Days}_{ij} + r_{ij}, \qquad r_{ij} \sim \mathcal{N}(0, \sigma^2) \\
&\textbf{Level 2}\ \text{(Subject }j\text{)} \\
&\quad \beta_{0j} = \gamma_{00} + u_{0j} \\
&\quad \beta_{1j} = \gamma_{10} + u_{1j} \\
&\quad \begin{pmatrix}u_{0j} \\ u_{1j}\end{pmatrix} \sim \mathcal{N}(0, T), \quad T = \begin{pmatrix}\tau_{00} & \tau_{01} \\ \tau_{01} & \tau_{11}\end{pmatrix}
\end{aligned}"""  # noqa: E501

SLEEP_GH_LATEX = r"""\begin{aligned}
&\textbf{Level 1}\ \text{(observation }i\text{)} \\
&\quad \text{Reaction}_{i} = \alpha_{j[i]} + \beta_{j[i]}\,\text{Days}_{i} + \varepsilon_{i}, \qquad \varepsilon_{i} \sim \mathcal{N}(0, {\sigma_{y}}^2) \\
&\textbf{Level 2}\ \text{(Subject }j\text{)} \\
&\quad \begin{pmatrix}\alpha_{j} \\ \beta_{j}\end{pmatrix} \sim \mathcal{N}(\begin{pmatrix}\mu_{\alpha} \\ \mu_{\beta}\end{pmatrix}, \Sigma), \quad \Sigma = \begin{pmatrix}{\sigma_{\alpha}}^2 & \rho_{\alpha\beta}\,\sigma_{\alpha}\,\sigma_{\beta} \\ \rho_{\alpha\beta}\,\sigma_{\alpha}\,\sigma_{\beta} & {\sigma_{\beta}}^2\end{pmatrix}
\end{aligned}"""  # noqa: E501

HSB_RB = """\
Level 1 (observation i):
  mAch_ij = β_0j + β_1j·cses_ij + r_ij,   r_ij ~ N(0, σ²)
Level 2 (school j):
  β_0j = γ_00 + γ_01·meanses_j + γ_02·sector[T.Public]_j + u_0j
  β_1j = γ_10 + γ_11·meanses_j + γ_12·sector[T.Public]_j + u_1j
  (u_0j, u_1j)ᵀ ~ N(0, T),   T = [[τ_00, τ_01], [τ_01, τ_11]]
Combined:
  mAch_ij = γ_00 + γ_01·meanses_j + γ_02·sector[T.Public]_j + γ_10·cses_ij + γ_11·meanses_j·cses_ij
          + γ_12·sector[T.Public]_j·cses_ij + u_0j + u_1j·cses_ij + r_ij,   r_ij ~ N(0, σ²)"""

HSB_GH_LEVELS = """\
Level 1 (observation i):
  mAch_i = α_j[i] + β_j[i]·cses_i + ε_i,   ε_i ~ N(0, σ_y²)
Level 2 (school j):
  α_j = γ_0^α + γ_1^α·meanses_j + γ_2^α·sector[T.Public]_j + η_j^α
  β_j = γ_0^β + γ_1^β·meanses_j + γ_2^β·sector[T.Public]_j + η_j^β
  (η_j^α, η_j^β)ᵀ ~ N(0, Σ),   Σ = [[σ_α², ρ_αβ·σ_α·σ_β], [ρ_αβ·σ_α·σ_β, σ_β²]]"""

THREE_LEVELS_RB = """\
Level 1 (observation i):
  y_ijk = π_0jk + π_1jk·x_ijk + e_ijk,   e_ijk ~ N(0, σ²)
Level 2 (class j):
  π_0jk = β_00k + β_01k·X_jk + r_0jk
  π_1jk = β_10k
  r_0jk ~ N(0, τ_π00)
Level 3 (school k):
  β_00k = γ_000 + γ_001·W_k + u_00k
  β_01k = γ_010
  β_10k = γ_100 + γ_101·W_k + u_10k
  (u_00k, u_10k)ᵀ ~ N(0, T_β),   T_β = [[τ_β00,00, τ_β00,10], [τ_β00,10, τ_β10,10]]"""

CBPP_COMBINED = """\
Combined:
  incidence_ij ~ Binomial(size_ij, p_ij)
  logit(p_ij) = γ_00 + γ_10·C(period)[T.2]_ij + γ_20·C(period)[T.3]_ij + γ_30·C(period)[T.4]_ij
              + u_0j
  u_0j ~ N(0, τ_00)"""

CROSSED_RB = """\
Model (observation i):
  Reaction_i = γ_0 + γ_1·Days_i + u_0,j[i]^(Subject) + u_0,k[i]^(Days) + r_i,   r_i ~ N(0, σ²)
Group level:
  u_0,j^(Subject) ~ N(0, τ_00^(Subject))
  u_0,k^(Days) ~ N(0, τ_00^(Days))"""

CROSSED_GH = """\
Model (observation i):
  Reaction_i = β_0 + β_1·Days_i + η_0,j[i]^(Subject) + η_0,k[i]^(Days) + ε_i,   ε_i ~ N(0, σ_y²)
Group level:
  η_0,j^(Subject) ~ N(0, (σ_0^(Subject))²)
  η_0,k^(Days) ~ N(0, (σ_0^(Days))²)"""


def test_sleepstudy_golden_text_with_priors(sleep):
    m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", sleep)
    assert str(m.equations()) == SLEEP_RB
    assert repr(m.equations()) == SLEEP_RB
    assert str(m.equations("gh", "combined", priors=False)) == SLEEP_GH_COMBINED


def test_sleepstudy_golden_latex(sleep):
    m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", sleep)
    rb = m.equations(form="levels", priors=False)
    assert rb.to_latex() == SLEEP_RB_LATEX
    assert rb._repr_latex_() == "$$\n" + SLEEP_RB_LATEX + "\n$$"
    assert m.equations("gh", "levels", priors=False).to_latex() == SLEEP_GH_LATEX


def test_markdown_has_one_math_block_per_section(sleep):
    m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", sleep)
    md = m.equations(form="levels", priors=False)._repr_markdown_()
    assert md.startswith("**Level 1 (observation i)**\n\n$$\n\\begin{aligned}\n")
    assert md.count("$$") == 4
    assert "**Level 2 (Subject j)**" in md


def test_hsb_golden_text(hsb_model):
    assert str(hsb_model.equations(priors=False)) == HSB_RB
    assert str(hsb_model.equations("gh", "levels", priors=False)) == HSB_GH_LEVELS


def test_three_levels_golden_text(classes):
    m = hb.Model.from_levels(
        "y ~ x",
        {"Intercept": "~ X + W", "x": "~ W"},
        random={"school": ["Intercept", "x"], "class": ["Intercept"]},
        group=["school", "class"],
        data=classes,
    )
    assert str(m.equations(form="levels", priors=False)) == THREE_LEVELS_RB


def test_binomial_golden_text():
    m = hb.Model(
        "incidence | trials(size) ~ C(period) + (1 | herd)",
        hb.datasets.load("cbpp"),
        family="binomial",
    )
    assert str(m.equations(form="combined", priors=False)) == CBPP_COMBINED


def test_crossed_factors_are_written_flat(sleep):
    m = hb.Model("Reaction ~ Days + (1 | Subject) + (1 | Days)", sleep)
    assert str(m.equations(priors=False)) == CROSSED_RB
    assert str(m.equations("gh", "levels", priors=False)) == CROSSED_GH


def test_plain_regression_is_one_equation(sleep):
    m = hb.Model("Reaction ~ Days", sleep)
    assert str(m.equations(priors=False)) == (
        "Model (observation i):\n  Reaction_i = γ_0 + γ_1·Days_i + r_i,   r_i ~ N(0, σ²)"
    )


def test_unknown_notation_and_form(sleep):
    m = hb.Model("Reaction ~ Days + (1 | Subject)", sleep)
    with pytest.raises(ValueError, match="Unknown notation 'hlm'"):
        m.equations("hlm")
    with pytest.raises(ValueError, match="Unknown form 'mixed'"):
        m.equations(form="mixed")


# -- every index is consistent ----------------------------------------------------------------

RB_MODELS = [
    HSB_FORMULA,
    "mAch ~ cses + minrty + sx + meanses + sector + cses:meanses + minrty:sector"
    " + (1 + cses | school)",
    "mAch ~ cses + (0 + cses | school)",
    "mAch ~ cses + (cses || school)",
    "mAch ~ cses + (1 | school) + (0 + cses | school)",
    "mAch ~ cses:meanses + (1 + cses | school)",
    "mAch ~ cses * sector + minrty + (1 + cses + minrty | school)",
    "mAch ~ 1 + (1 | school)",
]


def _sections(text: str) -> dict[str, list[str]]:
    """Section title -> its lines, wrapped lines joined."""
    out: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if not line.startswith(" "):
            title = line.rstrip(":").split(" (")[0]
            out[title] = []
        elif line.lstrip().startswith("+ ") or not line.startswith("  ") or line.startswith("   "):
            out[title][-1] += " " + line.strip()
        else:
            out[title].append(line.strip())
    return out


def _check_rb_indices(model: hb.Model) -> None:
    text = str(model.equations("rb", "both", priors=False))
    sections = _sections(text)
    level1 = sections["Level 1"][0]
    coefficients = re.findall(r"β_(\d)j(?:·(\S+?)_ij)?", level1)
    ps = [int(p) for p, _ in coefficients]
    assert ps == sorted(set(ps))
    predictor = {p: x for p, x in coefficients}
    # one level-2 equation per level-1 coefficient, with γ_p* and u_pj of its own p only
    gammas, deviations = set(), set()
    equations_ = [line for line in sections["Level 2"] if re.match(r"β_\dj = ", line)]
    assert [line[2] for line in equations_] == [p for p, _ in coefficients]
    for line in equations_:
        p = line[2]
        found = re.findall(r"γ_(\d)(\d)", line)
        assert found and all(g[0] == p for g in found)
        qs = [g[1] for g in found]
        assert len(set(qs)) == len(qs)
        assert all(re.match(rf"u_{p}j$", u) for u in re.findall(r"u_\dj", line))
        gammas |= {f"γ_{a}{b}" for a, b in found}
        deviations |= set(re.findall(r"u_\dj", line))
    # the laws: the vector lists exactly the deviations; T's elements index pairs of them
    laws = [line for line in sections["Level 2"] if " ~ N(0, " in line]
    in_laws = set(re.findall(r"u_\dj", " ".join(laws)))
    assert in_laws == deviations
    indices = sorted(u[2] for u in deviations)
    for a, b in re.findall(r"τ_(\d)(\d)", " ".join(laws)):
        assert a in indices and b in indices and a <= b
    # the combined equation has the same γ, each with its coefficient's level-1 predictor
    combined = sections["Combined"][0]
    terms = combined.split(" = ", 1)[1].split(",   ")[0].split(" + ")
    assert {t.split("·")[0] for t in terms if t.startswith("γ")} == gammas
    for term in terms:
        symbol = term.split("·")[0]
        p = symbol[2]
        if symbol.startswith(("γ", "u")) and predictor.get(p):
            assert term.endswith(f"·{predictor[p]}_ij"), term
    # fixef(by="level") uses the same symbols, one per population-level column
    labels = get_notation(model.design, "rb").fixed_labels()
    assert {label.symbol.text for label in labels} == gammas
    assert len(labels) == len(model.design.fixed_columns)
    for label in labels:
        p = label.symbol.text[2]
        assert label.explains == ("intercept" if p == "0" else f"{predictor[p]} slope")


@pytest.mark.parametrize("formula", RB_MODELS)
def test_rb_indices_are_consistent(formula, hsb_students):
    _check_rb_indices(hb.Model(formula, hsb_students))


def test_three_level_indices_are_consistent(classes):
    m = hb.Model("y ~ x * W + X + (1 + x | school) + (1 + x | school:class)", classes)
    sections = _sections(str(m.equations(form="levels", priors=False)))
    pis = re.findall(r"π_(\d)jk", sections["Level 1"][0])
    level2 = {line[2]: line for line in sections["Level 2"] if line.startswith("π_")}
    assert list(level2) == pis
    betas = set()
    for p, line in level2.items():
        found = re.findall(r"β_(\d)(\d)k", line)
        assert all(b[0] == p for b in found)
        assert re.findall(r"r_(\d)jk", line) == [p]
        betas |= {f"{a}{b}" for a, b in found}
    level3 = {line[2:4]: line for line in sections["Level 3"] if line.startswith("β_")}
    assert set(level3) == betas
    for pq, line in level3.items():
        assert all(g == pq for g in re.findall(r"γ_(\d\d)\d", line))
    labels = get_notation(m.design, "rb").fixed_labels()
    shown = set(re.findall(r"γ_\d{3}", " ".join(sections["Level 3"])))
    assert {label.symbol.text for label in labels} == shown


def test_gh_symbols_agree_between_levels_combined_and_labels(hsb_model):
    sections = _sections(str(hsb_model.equations("gh", priors=False)))
    symbols = r"(?:γ_\d\^\w+|μ_\w+)"
    level2 = set(re.findall(symbols, " ".join(sections["Level 2"])))
    combined = set(re.findall(symbols, " ".join(sections["Combined"])))
    labels = {lbl.symbol.text for lbl in get_notation(hsb_model.design, "gh").fixed_labels()}
    assert level2 == combined == labels
    assert len(labels) == 6


def test_formula_and_level_spellings_render_the_same(hsb_model, hsb_students):
    both = "~ 1 + meanses + sector"
    m = hb.Model.from_levels(
        "mAch ~ 1 + cses",
        {"Intercept": both, "cses": both},
        random=["Intercept", "cses"],
        group="school",
        data=hsb_students.drop(columns=["meanses", "sector"]),
        level2_data=hb.datasets.load("hsb_schools"),
    )
    for notation in ("rb", "gh"):
        for form in ("levels", "combined", "both"):
            a, b = m.equations(notation, form), hsb_model.equations(notation, form)
            assert str(a) == str(b)
            assert a.to_latex() == b.to_latex()


def test_text_lines_fit_the_width(hsb_model):
    for notation in ("rb", "gh"):
        text = str(hsb_model.equations(notation))
        assert max(len(line) for line in text.splitlines()) <= WIDTH


def test_latex_is_balanced(hsb_model, classes):
    three = hb.Model("y ~ x * W + X + (1 + x | school/class)", classes)
    for model in (hsb_model, three):
        for notation in ("rb", "gh"):
            latex = equations(model, notation).to_latex()
            depth = 0
            for ch in latex.replace(r"\{", "").replace(r"\}", ""):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0
            assert depth == 0
            assert latex.count(r"\begin{") == latex.count(r"\end{")


@pytest.mark.parametrize(
    ("link", "text", "latex"),
    [
        ("logit", "logit(p_ij) = ", r"\operatorname{logit}(p_{ij}) = "),
        ("probit", "Φ⁻¹(p_ij) = ", r"\Phi^{-1}(p_{ij}) = "),
        ("cloglog", "log(-log(1 - p_ij)) = ", r"\log(-\log(1 - p_{ij})) = "),
    ],
)
def test_the_link_is_written_as_its_function(link, text, latex):
    cbpp = hb.datasets.load("cbpp")
    m = hb.Model(
        "incidence | trials(size) ~ period + (1 | herd)", cbpp, family="binomial", link=link
    )
    eq = m.equations(form="combined", priors=False)
    assert "incidence_ij ~ Binomial(size_ij, p_ij)" in str(eq)
    assert f"  {text}γ_00" in str(eq)
    assert latex in eq._repr_latex_()


def _family_data() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(6), 5)
    return pd.DataFrame(
        {"y": rng.normal(size=30), "k": rng.poisson(2.0, 30), "n": 5, "g": g}
    ).assign(
        b=lambda d: (d["k"] > 1).astype(int),
        s=lambda d: np.minimum(d["k"], 5),
        pos=lambda d: np.exp(d["y"]),
        prop=lambda d: 1 / (1 + np.exp(-d["y"])),
        o=lambda d: np.minimum(d["k"], 3) + 1,  # ordinal: 1..4
    )


def _family_model(name: str) -> hb.Model:
    """A one-factor model of the first response that the family accepts."""
    for response in ("y", "k", "b", "s | trials(n)", "pos", "prop", "o"):
        try:
            return hb.Model(f"{response} ~ 1 + (1 | g)", _family_data(), family=name)
        except hb.errors.FamilyError:
            continue
    raise AssertionError(f"no response in the test data fits the {name} family")


@pytest.mark.parametrize("name", sorted(hb.families.FAMILIES))
def test_every_familys_own_parameters_appear_in_its_law_and_priors(name):
    family = hb.families.get_family(name)
    text = str(_family_model(name).equations(form="levels"))
    if name == "gaussian":  # σ² in the residual's law, σ in the priors
        assert "r_ij ~ N(0, σ²)" in text and "\n  σ ~ " in text
        return
    if family.cutpoints:  # an ordinal law: its cut-points c_k, each with its prior
        assert "c_k ~ " in text and "[cutpoints, at the means of the predictors]" in text
        return
    law = next(line for line in text.splitlines() if f"_ij ~ {family.law}(" in line)
    assert len(family.param_symbols) == len(family.params)
    for param, (symbol, _) in zip(family.params, family.param_symbols, strict=True):
        assert law.rstrip().endswith(f", {symbol})") or f", {symbol}," in law
        assert f"\n  {symbol} ~ " in text and f"[{param}]" in text
