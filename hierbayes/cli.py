"""Command line: ``hierbayes demo`` and ``hierbayes fit DATA.csv "FORMULA"``.

Bad files, formulas and data get one line on standard error and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hierbayes.errors import FormulaSyntaxError, HierbayesError, MissingColumnError
from hierbayes.families import FAMILIES

__all__ = ["main"]

DEMO_FORMULA = "Reaction ~ Days + (1 + Days | Subject)"


def _sampling_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    parser.add_argument("--chains", type=int, default=4, help="number of chains (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--sampler", choices=("nutpie", "pymc", "numpyro"), default="nutpie")
    parser.add_argument(
        "--output",
        metavar="DIR",
        default=None,
        help="save the fit (DIR/fit, for hierbayes.load) and its tables as CSV in DIR",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hierbayes", description="Bayesian multilevel regression on PyMC."
    )
    from hierbayes import __version__

    parser.add_argument("--version", action="version", version=f"hierbayes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help=f"fit {DEMO_FORMULA} on the bundled sleepstudy data and print its summary"
    )
    _sampling_args(demo)
    fit = sub.add_parser("fit", help="fit a model to a CSV file and print its summary")
    fit.add_argument("data", help="CSV file, one row per observation")
    fit.add_argument("formula", help='e.g. "y ~ x + (1 + x | group)"')
    fit.add_argument(
        "--level2",
        action="append",
        default=[],
        metavar="GROUP=TABLE.csv",
        help="one-row-per-group CSV merged by the GROUP column (repeatable)",
    )
    fit.add_argument("--family", default="gaussian", choices=tuple(FAMILIES))
    fit.add_argument(
        "--link",
        default=None,
        help=(
            "the family's link when not its default (bernoulli, binomial: probit, cloglog; "
            "cumulative: probit)"
        ),
    )
    fit.add_argument("--trials", default=None, help="column of binomial trials")
    fit.add_argument(
        "--offset", default=None, help="column added to the linear predictor (coefficient 1)"
    )
    fit.add_argument(
        "--sigma",
        default=None,
        metavar="FORMULA",
        help="formula of the log residual SD, e.g. '~ x + (1 | g)' (brms's sigma ~ ...)",
    )
    for name, family in (("shape", "negativebinomial, gamma"), ("phi", "beta")):
        fit.add_argument(
            f"--{name}",
            default=None,
            metavar="FORMULA",
            help=f"formula of the log {name} ({family}), as --sigma (brms's {name} ~ ...)",
        )
    fit.add_argument(
        "--equations",
        nargs="?",
        const="rb",
        default=None,
        choices=("rb", "gh"),
        metavar="NOTATION",
        help="print the model's level and combined equations before fitting "
        "(rb: Raudenbush & Bryk, the default; gh: Gelman & Hill)",
    )
    _sampling_args(fit)
    return parser


def _read_csv(path: str, what: str) -> pd.DataFrame:
    file = Path(path)
    if file.is_dir():
        raise HierbayesError(f"{what} file '{path}' is a folder; give the path of a CSV file.")
    if not file.is_file():
        raise HierbayesError(f"{what} file '{path}' does not exist.")
    try:
        return pd.read_csv(file)
    except OSError as err:
        raise HierbayesError(f"{what} file '{path}' cannot be read: {err.strerror}.") from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise HierbayesError(f"{what} file '{path}' is not a readable CSV: {first}") from err


def _level2(specs: Sequence[str]) -> dict[str, pd.DataFrame]:
    paths: dict[str, str] = {}
    for spec in specs:
        group, sep, path = spec.partition("=")
        if not sep or not group or not path:
            raise HierbayesError(f"--level2 expects GROUP=TABLE.csv, got '{spec}'.")
        if group in paths:
            raise HierbayesError(f"--level2 gives a table for '{group}' twice; give one.")
        paths[group] = path
    return {g: _read_csv(p, f"Level-2 table for '{g}'") for g, p in paths.items()}


def _check_option_columns(
    data: pd.DataFrame, level2: dict[str, pd.DataFrame], args: argparse.Namespace
) -> None:
    """``--trials`` and ``--offset`` name columns of the data (or, for an offset, of a level-2
    table): a missing one is a :class:`~hierbayes.errors.MissingColumnError` naming the flag,
    with the closest column names, as for the formula's columns. An offset expression
    (``np.log(n)``) is left to the model."""
    import difflib

    tables = [data, *level2.values()]
    available = list(dict.fromkeys(str(c) for t in tables for c in t.columns))
    for flag, name in (("--trials", args.trials), ("--offset", args.offset)):
        expression = flag == "--offset" and any(ch in str(name) for ch in "()+-*/ ")
        if name is None or expression or any(name in t.columns for t in tables):
            continue
        close = difflib.get_close_matches(name, available, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(available[:20]) + (" ..." if len(available) > 20 else "")
        raise MissingColumnError(
            f"Column '{name}' given to {flag} is not in the data.{hint} Available columns: {shown}"
        )


def _run(args: argparse.Namespace) -> int:
    from hierbayes import datasets
    from hierbayes.model import Model
    from hierbayes.validate import check_fit_arguments

    check_fit_arguments(  # before reading and building anything: --draws 0, --seed -1
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        cores=None,
        random_seed=args.seed,
        sampler=args.sampler,
        target_accept=0.8,
    )
    if args.command == "demo":
        data, formula, options = datasets.load("sleepstudy"), DEMO_FORMULA, {}
        print(f"Fitting {formula} to the bundled sleepstudy data (18 subjects, 180 rows)...")
        from hierbayes.density.cache import kernel_cached

        if not kernel_cached():
            print(
                "(The first fit on a machine compiles hierbayes's numba code once: about 5 minutes"
                " on 2 cores.)"
            )
    else:
        data, formula, level2 = _read_csv(args.data, "Data"), args.formula, _level2(args.level2)
        _check_option_columns(data, level2, args)
        options = {
            "level2": level2 or None,
            "family": args.family,
            "trials": args.trials,
            "offset": args.offset,
            "link": args.link,
            **{k: v for k in ("sigma", "shape", "phi") if (v := getattr(args, k)) is not None},
        }
    if getattr(args, "output", None):
        from hierbayes.cli_output import check_output

        check_output(args.output)
    start = time.perf_counter()
    model = Model(formula, data, **options)
    if getattr(args, "equations", None):
        print(model.equations(args.equations))
        print()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            random_seed=args.seed,
            sampler=args.sampler,
        )
    elapsed = time.perf_counter() - start
    del caught  # convergence problems are listed under Diagnostics in the summary
    print(fit.summary())
    print(f"\nWall time: {elapsed:.1f} s (build, compile and sample).")
    if getattr(args, "output", None):
        from hierbayes.cli_output import write_output

        folder = write_output(fit, args.output)
        print(f"Saved the fit and its tables to {folder}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hierbayes`` command."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except FormulaSyntaxError as err:
        line = str(err).splitlines()[0]
        where = f" (at character {err.position + 1})" if err.position is not None else ""
        print(f"hierbayes: error: {line}{where}", file=sys.stderr)
    except HierbayesError as err:
        print(f"hierbayes: error: {' '.join(str(err).split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
