"""Exceptions and warnings raised by hierbayes.

Every error names the offending column, group, term or prior and says what to do. Errors raised
while handling another library's exception chain it (``raise ... from err``).
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "ConvergenceWarning",
    "DataError",
    "FamilyError",
    "FileFormatError",
    "FormulaSyntaxError",
    "HierbayesError",
    "Level2Error",
    "LooWarning",
    "MissingColumnError",
    "MissingDataWarning",
    "MissingValueError",
    "ModelSpecError",
    "PathExistsError",
    "PriorError",
    "RowsNotKeptError",
    "SavedFitNotFoundError",
    "SummaryError",
    "UnknownGroupError",
    "UnknownLevelError",
]


class HierbayesError(Exception):
    """Base class of every error hierbayes raises on purpose."""


class FormulaSyntaxError(HierbayesError, ValueError):
    """A model formula could not be parsed.

    The message repeats the formula with a caret under the offending character and says what was
    expected there.
    """

    def __init__(self, message: str, formula: str | None = None, position: int | None = None):
        self.formula = formula
        self.position = position
        if formula is not None and position is not None:
            message = f"{message}\n    {formula}\n    {' ' * position}^"
        super().__init__(message)


class ModelSpecError(HierbayesError, ValueError):
    """A formula parses but does not describe a valid model (e.g. a term repeated on a factor)."""


class DataError(HierbayesError, ValueError):
    """The data cannot be used with the model as given."""


class MissingColumnError(DataError, KeyError):
    """A variable the model needs is not a column of the data."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class MissingValueError(DataError):
    """A variable the model needs has missing values (NaN/None)."""


class Level2Error(DataError):
    """A group-level (level-2) table or predictor is inconsistent with the data."""


class FamilyError(HierbayesError, ValueError):
    """Unknown family, or a response that the family cannot model."""


class PriorError(HierbayesError, ValueError):
    """Unknown prior name, unknown distribution, or invalid prior parameters."""


class SummaryError(HierbayesError, ValueError):
    """A summary or plot cannot be computed as asked.

    Raised for an unknown group, term or predictor, an invalid argument, or a model the summary is
    not defined for; the message names the offending argument and lists the valid choices.
    """


class UnknownGroupError(DataError):
    """New data names a group the model was not fitted to, where only known groups are allowed."""


class UnknownLevelError(DataError):
    """New data has a level of a categorical predictor that the training data did not have."""


class FileFormatError(HierbayesError, ValueError):
    """A saved fit cannot be read: a missing or corrupt piece, or a newer format version."""


class PathExistsError(HierbayesError, FileExistsError):
    """Saving would overwrite an existing path; pass ``overwrite=True`` to allow it."""


class ArgumentError(HierbayesError, ValueError, TypeError):
    """An argument has the wrong type or an invalid value (``draws=True``, ``cores=0``,
    ``random_seed="abc"``, ``kind="means"``); the message names the argument and what it takes."""


class SavedFitNotFoundError(HierbayesError, FileNotFoundError):
    """Nothing exists at the path given to :func:`hierbayes.load`."""


class LooWarning(UserWarning):
    """PSIS-LOO is unreliable for some observations (high Pareto k)."""


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics (R-hat, ESS, divergences) suggest the draws are not trustworthy."""


class MissingDataWarning(UserWarning):
    """Rows with missing values were dropped (``missing="drop"``); says how many per column."""


class RowsNotKeptError(HierbayesError, ValueError):
    """A model fitted from Dask data keeps per-group statistics, not rows (see
    :mod:`hierbayes.bigdata`), and was asked for something that needs the rows."""
