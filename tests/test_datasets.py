"""Bundled data sets: names, shapes and columns as documented."""

from __future__ import annotations

import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.datasets import list_datasets, load

EXPECTED = {
    "sleepstudy": (180, ["Reaction", "Days", "Subject"]),
    "hsb": (7185, ["school", "minrty", "sx", "ses", "mAch", "meanses", "sector", "cses"]),
    "hsb_schools": (160, ["school", "meanses", "sector"]),
    "radon": (919, ["log_radon", "basement", "uranium", "county", "county_name"]),
    "radon_counties": (85, ["county", "county_name", "uranium"]),
    "cbpp": (56, ["herd", "incidence", "size", "period"]),
    "oxboys": (234, ["Subject", "age", "height", "Occasion"]),
    "insteval": (73421, ["s", "d", "studage", "lectage", "service", "dept", "y"]),
    "grouseticks": (403, ["INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION"]),
    "verbagg": (
        7584,
        ["id", "item", "Anger", "Gender", "btype", "situ", "mode", "resp", "r2"],
    ),
    "salamanders": (644, ["count", "mined", "spp", "site"]),
    "mmmec": (354, ["deaths", "expected", "uvb", "region", "nation"]),
    "gcsemv": (1703, ["written", "gender", "school"]),
    "wine": (72, ["rating", "temp", "contact", "bottle", "judge"]),
}


def test_grouseticks_factors_load_as_text():
    """R's factors with numeric labels stay factors: YEAR enters as a categorical predictor."""
    d = load("grouseticks")
    assert all(d[c].map(type).eq(str).all() for c in ("INDEX", "BROOD", "LOCATION", "YEAR"))
    assert sorted(d["YEAR"].unique()) == ["95", "96", "97"]
    assert (d["BROOD"].nunique(), d["LOCATION"].nunique(), d["TICKS"].sum()) == (118, 63, 2567)


def test_verbagg_crossed_and_binary():
    """Every respondent answers every item once; r2 is 1 exactly where resp is not "no"."""
    d = load("verbagg")
    assert (d["id"].nunique(), d["item"].nunique()) == (316, 24)
    assert not d.duplicated(["id", "item"]).any()
    assert d["r2"].eq(d["resp"].ne("no").astype(int)).all()
    assert int(d["r2"].sum()) == 3611


def test_list_datasets():
    names = list_datasets()
    assert names == sorted(EXPECTED)
    assert hb.datasets.list_datasets() == names


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_shape_and_columns(name):
    rows, columns = EXPECTED[name]
    df = load(name)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == rows
    assert df.columns.tolist() == columns
    assert not df.isna().any().any()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_returns_a_new_frame(name):
    first = load(name)
    first.iloc[0, 0] = first.iloc[1, 0]
    first["extra"] = 1
    assert "extra" not in load(name).columns


def test_sleepstudy_contents():
    df = load("sleepstudy")
    assert df.shape == (180, 3)
    assert df["Subject"].nunique() == 18
    assert sorted(df["Days"].unique().tolist()) == list(range(10))
    assert df.groupby("Subject").size().eq(10).all()


def test_hsb_contents():
    df = load("hsb")
    assert df["school"].nunique() == 160
    assert set(df["sector"]) == {"Public", "Catholic"}
    # meanses and sector are school-level: constant within school.
    assert df.groupby("school")[["meanses", "sector"]].nunique().eq(1).all().all()
    # cses is ses centred on the school mean.
    centred = df["ses"] - df.groupby("school")["ses"].transform("mean")
    assert (centred - df["cses"]).abs().max() < 1e-3


def test_hsb_schools_one_row_per_school():
    schools = load("hsb_schools")
    assert schools["school"].is_unique
    assert schools["school"].is_monotonic_increasing
    assert set(schools["school"]) == set(load("hsb")["school"])


def test_radon_contents():
    df = load("radon")
    assert "log_radon" in df.columns and "log.radon" not in df.columns
    assert df["county"].nunique() == 85
    assert set(df["basement"]) == {0, 1}
    assert df.groupby("county")["uranium"].nunique().eq(1).all()


def test_radon_counties_one_row_per_county():
    counties = load("radon_counties")
    assert counties["county"].is_unique
    assert len(counties) == load("radon")["county"].nunique()


def test_cbpp_contents():
    df = load("cbpp")
    assert df["herd"].nunique() == 15
    assert sorted(df["period"].unique().tolist()) == [1, 2, 3, 4]
    assert (df["incidence"] <= df["size"]).all()
    assert (df["incidence"] >= 0).all()


def test_oxboys_contents():
    df = load("oxboys")
    assert df["Subject"].nunique() == 26
    assert df["Occasion"].nunique() == 9


@pytest.mark.parametrize("name", ["sleep", "HSB", "", "hsb.csv.gz"])
def test_unknown_dataset(name):
    with pytest.raises(
        ValueError, match=rf"Unknown data set '{name}'; choose one of cbpp, gcsemv, grouseticks,"
    ):
        load(name)


def test_salamanders_contents():
    df = load("salamanders")
    assert (df["site"].nunique(), df["spp"].nunique()) == (23, 7)
    assert set(df["mined"]) == {"yes", "no"}
    # glmmTMB's zero-inflation example: most surveys find no salamander
    assert (df["count"].eq(0).sum(), df["count"].sum()) == (387, 852)
    assert df["count"].ge(0).all()


def test_mmmec_contents():
    df = load("mmmec")
    assert df["region"].map(type).eq(str).all()
    assert (df["region"].nunique(), df["nation"].nunique()) == (78, 9)
    assert (df["expected"] > 0).all()
    # every region lies in one nation
    assert df.groupby("region")["nation"].nunique().eq(1).all()


def test_gcsemv_contents():
    df = load("gcsemv")
    assert df["school"].map(type).eq(str).all()
    assert df["school"].nunique() == 73
    assert set(df["gender"]) == {"F", "M"}
    # a proportion strictly inside (0, 1): the beta family takes it as it is
    assert df["written"].gt(0).all() and df["written"].lt(1).all()


def test_wine_contents():
    df = load("wine")
    assert sorted(df["rating"].unique().tolist()) == [1, 2, 3, 4, 5]
    assert df["judge"].map(type).eq(str).all() and df["judge"].nunique() == 9
    # 9 judges x 2 temperatures x 2 contacts x 2 bottles each
    assert df.groupby(["judge", "temp", "contact"]).size().eq(2).all()
