"""hierbayes: Bayesian multilevel (hierarchical, mixed-effects) regression on PyMC.

Examples
--------
>>> import hierbayes as hb
>>> sleep = hb.datasets.load("sleepstudy")
>>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
>>> fit = m.fit(draws=1000, tune=1000, chains=4, random_seed=1)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

from hierbayes import datasets
from hierbayes.comparison import compare
from hierbayes.errors import (
    ConvergenceWarning,
    DataError,
    FamilyError,
    FileFormatError,
    FormulaSyntaxError,
    HierbayesError,
    Level2Error,
    LooWarning,
    MissingColumnError,
    MissingValueError,
    ModelSpecError,
    PathExistsError,
    PriorError,
    SummaryError,
    UnknownGroupError,
    UnknownLevelError,
)
from hierbayes.fit import Fit
from hierbayes.io import load
from hierbayes.model import Model
from hierbayes.priors import Prior
from hierbayes.studies import SBC, Power, power, sbc
from hierbayes.summaries.modeltable import model_table as table

__version__ = "0.1.0"

__all__ = [
    "SBC",
    "ConvergenceWarning",
    "DataError",
    "FamilyError",
    "FileFormatError",
    "Fit",
    "FormulaSyntaxError",
    "HierbayesError",
    "Level2Error",
    "LooWarning",
    "MissingColumnError",
    "MissingValueError",
    "Model",
    "ModelSpecError",
    "PathExistsError",
    "Power",
    "Prior",
    "PriorError",
    "SummaryError",
    "UnknownGroupError",
    "UnknownLevelError",
    "__version__",
    "compare",
    "datasets",
    "load",
    "power",
    "sbc",
    "table",
]
