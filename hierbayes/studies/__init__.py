"""Simulation studies: simulation-based calibration, power, and the executor they share.

Each study builds independent replicates (a model recipe, its data and a seed), maps them over
an executor (in this process by default, a ``dask.distributed`` client when given) and gathers
tidy tables; see :mod:`hierbayes.studies.executor`.
"""

from hierbayes.studies.calibration import SBC
from hierbayes.studies.executor import ReplicateFailure, run_replicates
from hierbayes.studies.power_study import Power, power
from hierbayes.studies.sbc_study import sbc

__all__ = ["SBC", "Power", "ReplicateFailure", "power", "run_replicates", "sbc"]
