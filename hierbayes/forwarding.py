"""Methods that forward to a function carry that function's full docstring.

``Fit.shrinkage`` is ``summaries.shrinkage(fit, ...)``; ``help(fit.shrinkage)`` should show the
whole documentation (parameters, returns, examples), not "see hierbayes.summaries.shrinkage".
:func:`forwards` copies it at class-definition time. The docstring is read from the target's
source file without importing its module, so forwarding to the plotting or prediction layers
keeps ``import hierbayes`` free of matplotlib and PyMC.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

__all__ = ["forwarded_docstring", "forwards"]

F = TypeVar("F", bound=Callable[..., object])

_PACKAGE = Path(__file__).resolve().parent


@cache
def _module_docstrings(module: str) -> dict[str, str]:
    """Docstrings of a hierbayes module's top-level functions, read from its source file."""
    relative = module.split(".")[1:]
    path = _PACKAGE.joinpath(*relative).with_suffix(".py")
    if not path.is_file():
        path = _PACKAGE.joinpath(*relative, "__init__.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: ast.get_docstring(node, clean=True) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def _target_docstring(target: str) -> str:
    module, _, name = target.partition(":")
    if not module.startswith("hierbayes.") or not name:
        raise ValueError(f"target must look like 'hierbayes.<module>:<function>', got {target!r}")
    try:
        docs = _module_docstrings(module)
    except OSError:  # no source files (e.g. a zipped install): import the module instead
        return inspect.getdoc(getattr(importlib.import_module(module), name)) or ""
    if name not in docs:
        raise ValueError(f"{module} defines no function {name!r}")
    return docs[name]


def _drop_parameters(doc: str, keep: set[str] | None) -> str:
    """Leave out of the Parameters section the entries (name line and indented description)
    of ``fit`` and, when ``keep`` is given, of every parameter not in it."""
    lines = doc.splitlines()
    out: list[str] = []
    in_parameters = dropping = False
    for i, line in enumerate(lines):
        if line == "Parameters" and i + 1 < len(lines) and lines[i + 1].startswith("---"):
            in_parameters = True
        elif in_parameters and line and not line.startswith(" ") and i + 1 < len(lines):
            if lines[i + 1].startswith("---") and line != "Parameters":
                in_parameters = dropping = False
            elif " : " in line or line.strip().isidentifier() or "," in line:
                names = {n.strip() for n in line.split(" : ")[0].split(",")}
                dropping = "fit" in names or (keep is not None and not names & keep)
        elif in_parameters and not line:
            dropping = dropping and i + 1 < len(lines) and lines[i + 1].startswith(" ")
        if not dropping:
            out.append(line)
    text = "\n".join(out)
    # a Parameters section left empty goes too
    return text.replace("Parameters\n----------\n\n", "")


def forwarded_docstring(target: str, parameters: set[str] | None = None) -> str:
    """The docstring of ``target`` (``"hierbayes.summaries.pooling:shrinkage"``) as a method's:
    its ``fit`` parameter (the method's ``self``) and, when ``parameters`` is given, those the
    method does not take left out, and a line naming the function.

    Examples
    --------
    >>> doc = forwarded_docstring("hierbayes.summaries.pooling:shrinkage")
    >>> "Examples" in doc and "fit : Fit" not in doc
    True
    """
    own = _target_docstring(target)
    owner = "model" if "\nmodel : Model" in own else "fit"
    doc = _drop_parameters(own, parameters).rstrip() + "\n"
    module, _, name = target.partition(":")
    summary, _, rest = doc.partition("\n\n")
    note = f"This method calls ``{module}.{name}`` with this {owner}."
    return f"{summary}\n\n{note}\n\n{rest}".rstrip() + "\n"


def forwards(target: str) -> Callable[[F], F]:
    """Decorator: give the method the full docstring of the function it forwards to.

    Parameters
    ----------
    target : str
        ``"<module>:<function>"``, the module where the function is defined, e.g.
        ``"hierbayes.summaries.pooling:shrinkage"``.

    Returns
    -------
    callable
        A decorator that sets the method's ``__doc__`` (and ``__forwards__``, the target) and
        returns the method itself (its signature is unchanged).

    Examples
    --------
    >>> class Result:
    ...     @forwards("hierbayes.summaries.pooling:shrinkage")
    ...     def shrinkage(self):
    ...         pass
    >>> Result.shrinkage.__doc__.splitlines()[0]
    "Posterior of each group's shrinkage (pooling) factor, and its empirical counterpart."
    """

    def decorate(method: F) -> F:
        method.__forwards__ = target  # type: ignore[attr-defined]
        try:
            parameters = set(list(inspect.signature(method).parameters)[1:])
            method.__doc__ = forwarded_docstring(target, parameters)
        except (OSError, SyntaxError, ValueError):
            # the target moved: keep the method's own docstring (a test compares the two)
            pass
        return method

    return decorate
