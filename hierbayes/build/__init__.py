"""Build: a Design plus priors becomes a PyMC model with coords and dims everywhere."""

from hierbayes.build.groups import PARAMETERIZATIONS, group_dim
from hierbayes.build.model import (
    FIXED_DIM,
    OBS_DIM,
    build_model,
    resolve_parameterization,
    response_name,
)

__all__ = [
    "FIXED_DIM",
    "OBS_DIM",
    "PARAMETERIZATIONS",
    "build_model",
    "group_dim",
    "resolve_parameterization",
    "response_name",
]
