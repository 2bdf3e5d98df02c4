"""Design: a model spec plus data becomes numeric arrays with named coordinates."""

from hierbayes.design.design import (
    Design,
    GroupBlock,
    categorical_variables,
    encode_like_training,
    is_continuous,
    make_design,
    required_variables,
)
from hierbayes.design.level2 import check_constant_within, merge_level2

__all__ = [
    "Design",
    "GroupBlock",
    "categorical_variables",
    "check_constant_within",
    "encode_like_training",
    "is_continuous",
    "make_design",
    "merge_level2",
    "required_variables",
]
