"""Prediction for existing, new and average groups; simulation of whole new groups."""

from hierbayes.predict.encode import Encoded, encode
from hierbayes.predict.predict import GROUPS, KINDS, posterior_predictive, predict
from hierbayes.predict.simulate import SimulatedGroups, simulate_new_groups

__all__ = [
    "GROUPS",
    "KINDS",
    "Encoded",
    "SimulatedGroups",
    "encode",
    "posterior_predictive",
    "predict",
    "simulate_new_groups",
]
