"""Bundled real multilevel data sets.

==================  ======  ========================================================================
name                rows    contents
==================  ======  ========================================================================
``sleepstudy``      180     ``Reaction`` (ms) of 18 ``Subject`` over ``Days`` 0-9 of sleep
                            deprivation (Belenky et al. 2003; R package lme4).
``hsb``             7,185   High School and Beyond: math achievement ``mAch`` of students in 160
                            ``school``; student ``ses``, group-centred ``cses``, ``minrty``, ``sx``;
                            school-level ``meanses`` and ``sector`` repeated on every row
                            (Raudenbush & Bryk 2002; R package mlmRev).
``hsb_schools``     160     One row per ``school``: ``meanses`` (mean SES), ``sector``
                            (Public/Catholic). Derived from ``hsb``.
``radon``           919     Minnesota homes: ``log_radon``; ``basement``, coded as in the source:
                            0 = measured in the basement, 1 = on the first floor (Gelman & Hill's
                            ``floor``); ``county`` (85), ``county_name``, county-level
                            ``uranium`` (log soil uranium) (Gelman & Hill 2007; R package
                            HLMdiag). Columns renamed from R's ``log.radon`` and ``county.name``.
``radon_counties``  85      One row per ``county``: ``county_name``, ``uranium``.
``cbpp``            56      Contagious bovine pleuropneumonia: ``incidence`` new cases out of
                            ``size`` animals per ``herd`` (15) and ``period`` (1-4) (R: lme4).
``insteval``        73,421  ETH Zurich lecture evaluations: rating ``y`` (1-5) by student
                            ``s`` (2,972) of lecturer ``d`` (1,128), crossed; ``dept`` (14),
                            ``service``, ``studage``, ``lectage`` (R package lme4).
``oxboys``          234     ``height`` (cm) of 26 boys (``Subject``) at standardised ``age`` on
                            9 ``Occasion`` values (R package mlmRev).
``grouseticks``     403     Counts of ``TICKS`` on the heads of red grouse chicks: one ``INDEX`` per
                            chick (403, the observation level), ``BROOD`` (118) nested in
                            ``LOCATION`` (63), ``HEIGHT`` above sea level (m), ``YEAR`` (95-97).
                            ``INDEX``, ``BROOD``, ``LOCATION`` and ``YEAR`` load as text, as R's
                            factors (Elston et al. 2001, Parasitology 122: 563-569; R package
                            lme4, GPL; R's derived ``cHEIGHT`` column left out).
``verbagg``         7,584   Verbal aggression: 316 respondents (``id``, loads as text) each answer
                            24 ``item``, crossed; ``r2`` 1 if the answer (``resp``: no, perhaps,
                            yes) is not "no"; trait ``Anger``, ``Gender``, item ``btype`` (curse,
                            scold, shout), ``situ`` (other, self), ``mode`` (want, do) (De Boeck &
                            Wilson 2004; R package lme4, GPL; R's ``r2`` "Y"/"N" stored as 1/0).
``salamanders``     644     Salamander ``count`` per survey at 23 ``site`` (text), ``spp``
                            (7 species and life stages), ``mined`` (yes/no) (Price et al. 2016;
                            R package glmmTMB, AGPL-3; its cover, date and water columns left out).
``mmmec``           354     Malignant melanoma ``deaths`` in 354 counties of 78 ``region`` (text)
                            of 9 ``nation``, with the ``expected`` deaths (the exposure) and
                            ``uvb`` (centred UV-B dose) (R package mlmRev, GPL).
``gcsemv``          1,703   GCSE ``written`` paper score as a proportion in (0, 1) (R's percent
                            / 100) of pupils by ``gender`` (F/M) in 73 ``school`` (text); R's
                            pupils without a written score left out (R package mlmRev, GPL).
``wine``            72      Bitterness ``rating`` of white wine, integers 1-5 (R's ordered
                            factor), by 9 ``judge`` of 8 ``bottle`` (both text), with ``temp``
                            (cold/warm) and ``contact`` (no/yes) (Randall 1989; R package
                            ordinal, GPL).
==================  ======  ========================================================================
"""

from __future__ import annotations

import difflib
from importlib import resources

import pandas as pd

from hierbayes.errors import ArgumentError

__all__ = ["list_datasets", "load"]

_FILES = {
    "sleepstudy": "sleepstudy.csv",
    "hsb": "hsb.csv.gz",
    "radon": "radon.csv",
    "cbpp": "cbpp.csv",
    "oxboys": "oxboys.csv",
    "insteval": "insteval.csv.gz",
    "grouseticks": "grouseticks.csv",
    "verbagg": "verbagg.csv.gz",
    "salamanders": "salamanders.csv",
    "mmmec": "mmmec.csv",
    "gcsemv": "gcsemv.csv",
    "wine": "wine.csv",
}
# columns read as text: R factors whose labels are numbers
_FACTORS = {
    "grouseticks": ["INDEX", "BROOD", "LOCATION", "YEAR"],
    "verbagg": ["id"],
    "mmmec": ["region"],
    "gcsemv": ["school"],
    "wine": ["bottle", "judge"],
}
_TABLES = {
    "hsb_schools": ("hsb", "school", ["meanses", "sector"]),
    "radon_counties": ("radon", "county", ["county_name", "uranium"]),
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load`.

    Returns
    -------
    list of str
        The bundled data sets, sorted.

    Examples
    --------
    >>> "hsb_schools" in list_datasets()
    True
    """
    return sorted([*_FILES, *_TABLES])


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set as a new DataFrame (see the module docstring for each one).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``"sleepstudy"``, ``"hsb"``, ``"hsb_schools"``,
        ``"radon"``, ...

    Returns
    -------
    DataFrame
        A fresh copy: changing it does not change what the next call returns.

    Examples
    --------
    >>> load("sleepstudy").shape
    (180, 3)
    >>> load("hsb_schools").columns.tolist()
    ['school', 'meanses', 'sector']
    """
    if not isinstance(name, str) or (name not in _TABLES and name not in _FILES):
        text = name if isinstance(name, str) else ""
        close = difflib.get_close_matches(text, list_datasets(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(
            f"Unknown data set {name!r}; choose one of {', '.join(list_datasets())}.{hint}"
        )
    if name in _TABLES:
        source, key, columns = _TABLES[name]
        long = load(source)
        return long.groupby(key, as_index=False, sort=True)[columns].first()
    path = resources.files(__package__).joinpath("data", _FILES[name])
    with resources.as_file(path) as file:
        return pd.read_csv(file, dtype=dict.fromkeys(_FACTORS.get(name, []), str))
