"""The progress bar's default: on in interactive sessions, off in CI and when piped."""

from __future__ import annotations

import io
import sys

import pytest

from hierbayes.progress import interactive, resolve_progressbar


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_shows_progress_unless_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stdout", _Tty())
    assert interactive() and resolve_progressbar(None)
    assert resolve_progressbar(False) is False  # the argument overrides
    monkeypatch.setenv("CI", "true")
    assert not interactive() and not resolve_progressbar(None)
    assert resolve_progressbar(True) is True
    monkeypatch.setenv("CI", "0")
    assert interactive()


def test_piped_output_hides_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not interactive() and not resolve_progressbar(None)


def test_jupyter_kernel_shows_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shell:
        def __init__(self) -> None:
            self.config = {"IPKernelApp": {}}

    class FakeIPython:
        @staticmethod
        def get_ipython() -> Shell:
            return Shell()

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a kernel's stdout is not a terminal
    monkeypatch.setitem(sys.modules, "IPython", FakeIPython)
    assert interactive()
