"""Session-scoped tiny models for the simulation-study tests."""

from __future__ import annotations

import pytest
from study_models import tiny_model

import hierbayes as hb


@pytest.fixture(scope="session")
def gaussian_tiny() -> hb.Model:
    return tiny_model("gaussian", "x + (1 | g)", "marginal")
