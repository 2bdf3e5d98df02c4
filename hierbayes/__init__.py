"""hierbayes: Bayesian multilevel (hierarchical, mixed-effects) regression on PyMC.

Examples
--------
>>> import hierbayes as hb
>>> sleep = hb.datasets.load("sleepstudy")
>>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
>>> fit = m.fit(draws=1000, tune=1000, chains=4, random_seed=1)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from hierbayes.errors import (
    ArgumentError,
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
    RowsNotKeptError,
    SavedFitNotFoundError,
    SummaryError,
    UnknownGroupError,
    UnknownLevelError,
)

if TYPE_CHECKING:
    from hierbayes import datasets
    from hierbayes.comparison import compare
    from hierbayes.fit import Fit
    from hierbayes.io import load
    from hierbayes.model import Model
    from hierbayes.priors import Prior
    from hierbayes.studies import SBC, Power, power, sbc
    from hierbayes.summaries.modeltable import model_table as table

# Imported on first use, so that ``import hierbayes`` stays fast and does not load PyMC,
# matplotlib, ArviZ or numba until a model, a fit or a plot needs them.
_LAZY = {
    "Fit": ("hierbayes.fit", "Fit"),
    "Model": ("hierbayes.model", "Model"),
    "Power": ("hierbayes.studies", "Power"),
    "Prior": ("hierbayes.priors", "Prior"),
    "SBC": ("hierbayes.studies", "SBC"),
    "compare": ("hierbayes.comparison", "compare"),
    "datasets": ("hierbayes.datasets", None),
    "load": ("hierbayes.io", "load"),
    "power": ("hierbayes.studies", "power"),
    "sbc": ("hierbayes.studies", "sbc"),
    "table": ("hierbayes.summaries.modeltable", "model_table"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        if not name.startswith("_") and importlib.util.find_spec(f"hierbayes.{name}"):
            return importlib.import_module(f"hierbayes.{name}")  # a subpackage, e.g. hb.plots
        raise AttributeError(f"module 'hierbayes' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"

__all__ = [
    "SBC",
    "ArgumentError",
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
    "RowsNotKeptError",
    "SavedFitNotFoundError",
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
