"""Plot tests draw off-screen (Agg) and close every figure they open."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


@pytest.fixture
def save_png(tmp_path):
    """Save a figure as PNG under tmp_path and check that a PNG file was written."""

    def save(fig, name: str = "figure.png"):
        path = tmp_path / name
        fig.savefig(path, dpi=60)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return path

    return save
