"""The layout of the arrays the compiled log-density reads, shared by
:mod:`hierbayes.density.layout` (which packs them) and the kernel's modules (which read them):
positions in the integer headers, array numbers in the table, and the prior distributions' codes.
Plain integers, so numba compiles them in as constants.
"""

from __future__ import annotations

import math

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
"""numba options of every kernel function: cached on disk, no GIL, numpy's float semantics."""

LOG_2PI = math.log(2.0 * math.pi)
LOG_PI = math.log(math.pi)
LOG_2 = math.log(2.0)

# global integer header (array 0)
M_NDIM = 0
M_FAMILY = 1
M_NOBS = 2
M_P = 3
M_NBLOCKS = 4
M_MARG_Q = 5  # total coefficients of the integrated-out factor (0: none)
M_MARG_J = 6  # its number of groups
M_SUFFSTAT = 7  # 1: the integrated-out factor is the only one (sufficient statistics)
# 2: nested factors, all integrated out (hierbayes.density.nested_marginal; A_MCODES: the tree)
M_FPAR = 8  # position of the family's own parameters (log scale) in x (-1: none)
M_EFF_SIZE = 9  # Σ J q over the sampled (not integrated-out) group terms
M_COV_SIZE = 10  # Σ q² over all group terms
M_SD_SIZE = 11  # Σ q over all group terms
M_NFPAR = 12  # number of the family's own parameters
M_ORDERED = 13  # 1: the own parameters are one ordered vector (cut-points), see density.ordered
M_NDBLOCKS = 14  # group terms of an own parameter's linear predictor (after the mean's blocks)
M_DPAR = 15  # 1 + index of the own parameter with a linear predictor (0: none), dpar_density
M_LAP_Q = 16  # coefficients of the factor integrated out by Laplace (0: none; density.laplace)
M_LAP_J = 17  # its number of groups (its codes and columns: A_MCODES, A_MZ)
M_PAIRS = 18  # array of the rotated pairs of nested effects (density.pairs; 0: none)
M_LAP_F = 19  # factors integrated out jointly by Laplace (0: one; density.laplace_joint)
M_AGQ = 20  # array of the one factor's quadrature nodes (0: Laplace; density.agq)
M_SIZE = 21  # the first size; slots added later at the end of this file

# per-block integer header
B_Q = 0
B_J = 1
B_CORRELATED = 2
B_MARGINAL = 3
B_OFF_SD = 4  # position of log sd in x
B_OFF_CORR = 5  # position of the correlation rows in x (-1: none)
B_OFF_EFF = 6  # position of the group effects in x (-1: integrated out)
B_MARG_COL = 7  # first column of the block within the integrated-out factor
B_EFF_AT = 8  # offset of the block's effects in the effects scratch
B_COV_AT = 9  # offset of the block's q x q matrices in the covariance scratch
B_SD_AT = 10  # offset of the block's SDs in the SD scratch
B_HC = 11  # m > 0: its centred effects are sampled as u + Σ of m fixed terms (centring.py)
B_SIZE = 12

# arrays of the table (index k: address at 1 + 2k, length at 2 + 2k)
A_META = 0  # int64 global header
A_Y = 1  # response (n)
A_W = 2  # fixed design [1, X - mean(X)], column by column (p x n)
A_PRIOR_FIXED = 3  # priors of θ (p x 4: code, a, b, c)
A_PRIOR_FPAR = 4  # priors of the family's own parameters (k x 4)
A_TRIALS = 5  # binomial trials (n)
A_CONST = 6  # constants: [0] likelihood normalising constant
A_SS_WTW = 7  # W'W (p x p), sufficient statistics
A_SS_WTY = 8  # W'(y - shift) (p)
A_SS_YTY = 9  # [(y - shift)'(y - shift), shift]
A_SS_ZTZ = 10  # per group Z'Z of the integrated-out factor (J x q x q)
A_SS_ZTW = 11  # per group Z'W, column by column (p x J q)
A_SS_ZTY = 12  # per group Z'(y - shift) (J x q)
A_MCODES = 13  # group codes of the integrated-out factor (n)
A_MZ = 14  # its design columns, column by column (q x n; empty for a varying intercept)
A_OFFSET = 15  # offsets, summed (n; empty: none)
A_WEIGHTS = 16  # likelihood weights (n; empty: none)
N_GLOBAL = 17
# per block b: N_GLOBAL + b * PER_BLOCK + ...
P_META = 0  # int64 block header
P_CHOICE = 1  # int64 per coefficient: 1 centred, 0 non-centred, 2 expanded (density.expanded)
P_PRIOR_SD = 2  # priors of the SDs (q x 4)
P_LKJ = 3  # [eta, log normalising constant]
P_CODES = 4  # int64 group codes (n)
P_Z = 5  # design columns, column by column (q x n; empty for a varying intercept)
P_HC_COLS = 6  # int64: the m fixed columns in its centred effects, then each one's coefficient (2m)
P_HC_X = 7  # their values per group, group by group (J x m; or empty)
P_LAMBDA = 8  # partially centred (P_CHOICE 3): each group's weight λ_j (J; or empty)
PER_BLOCK = 9
EXPANDED = 2  # P_CHOICE of a parameter-expanded coefficient: s in place of log sd
PARTIAL = 3  # P_CHOICE of a partially centred coefficient (density.effects_partial)
# an own parameter's linear predictor (hierbayes.density.dpar_density): after every block,
# at N_GLOBAL + (M_NBLOCKS + M_NDBLOCKS) * PER_BLOCK + ...
D_META = 0  # int64: [index of the parameter among the family's, their number, p_d, θ_d's position]
D_X = 1  # its fixed design [1, X_d - mean(X_d)], column by column (p_d x n)
D_PRIOR = 2  # priors of θ_d (p_d x 4)
N_DPAR = 3

# prior codes: real line
NORMAL = 0
STUDENT_T = 1
CAUCHY = 2
LAPLACE = 3
FLAT = 4
# positive (sampled on the log scale)
HALF_NORMAL = 10
HALF_STUDENT_T = 11
HALF_CAUCHY = 12
EXPONENTIAL = 13
GAMMA = 14
INVERSE_GAMMA = 15
LOG_NORMAL = 16
WEIBULL = 17
HALF_FLAT = 18
# unit interval (sampled on the logit scale): a family's probability parameter
BETA = 20

# global header slots added after the first M_SIZE, each taking the next one
M_CELLS = M_SIZE  # first array of the fixed part's cells (density.fixed_cells; 0: none)
# sheared group terms (hierbayes.density.shear): M_SHEAR is the global header's slot of the array
# of every group coefficient's centre (Σ q over the mean's terms, at B_SD_AT; 0: not sheared)
M_SHEAR = M_CELLS + 1
M_SIZE = M_SHEAR + 1
