"""Gaussian likelihood with the group effects of one grouping factor integrated out.

For a gaussian model, the effects ``u_j`` of one grouping factor can be integrated out exactly.
With ``L`` the Cholesky factor of their covariance ``T``, ``r_j`` a group's residuals after the
other terms and ``Z_j`` its rows of the group design (all terms of the factor side by side),

    y_j ~ Normal(η_j, σ² I + Z_j T Z_j')

and by the Woodbury identity and the matrix determinant lemma, with ``M_j = σ² I + L' Z_j'Z_j L``
(q x q) and ``w_j = L' Z_j' r_j``,

    log |V_j| = (n_j - q) log σ² + log |M_j|,
    r_j' V_j⁻¹ r_j = (r_j'r_j - w_j' M_j⁻¹ w_j) / σ².

Neither ``T⁻¹`` nor any n x n matrix appears, so a variance near zero is harmless. When the
factor is the only one in the model, ``r_j = y_j - W_j θ`` is linear in the fixed effects and
everything reduces to per-group sufficient statistics (``Z'Z``, ``Z'W``, ``Z'y``, and global
``W'W``, ``W'y``, ``y'y``): a gradient costs O(J q² p) however many rows there are. With other
grouping factors the residuals are formed row by row (O(n q) per gradient) and the funnel of the
marginalised factor is still gone.

Closed forms are used for q = 1 and q = 2; larger blocks use a batched Cholesky factorisation.
The marginalised effects are drawn after sampling from their exact conditional posterior
(:mod:`hierbayes.conditional`), so results hold ``u|<term>`` as in any other parameterisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError

__all__ = [
    "MARGINAL_POTENTIAL",
    "FactorDesign",
    "add_marginal_likelihood",
    "centred_residual_sums",
    "factor_design",
]

MARGINAL_POTENTIAL = "marginal_loglik"


@dataclass(frozen=True)
class FactorDesign:
    """All group terms of one grouping factor, side by side.

    Attributes
    ----------
    blocks : tuple of GroupBlock
        The factor's group terms, in model order.
    Z : ndarray, shape (n, q)
        Their design columns side by side.
    codes : ndarray of int, shape (n,)
        Each observation's group.
    n_groups : int
    """

    blocks: tuple[GroupBlock, ...]
    Z: np.ndarray
    codes: np.ndarray
    n_groups: int

    @property
    def q(self) -> int:
        """Number of varying coefficients of the factor."""
        return int(self.Z.shape[1])

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """Per-group sums of ``values`` (n x k) -> (J x k)."""
        out = np.empty((self.n_groups, values.shape[1]))
        for k in range(values.shape[1]):
            out[:, k] = np.bincount(self.codes, weights=values[:, k], minlength=self.n_groups)
        return out

    def cross(self, other: np.ndarray) -> np.ndarray:
        """Per-group ``Z_j' other_j`` for an n x k matrix -> (J, q, k)."""
        q, k = self.q, other.shape[1]
        products = (self.Z[:, :, None] * other[:, None, :]).reshape(len(self.codes), q * k)
        return self.group_sums(products).reshape(self.n_groups, q, k)


def factor_design(design: Design, names: list[str]) -> FactorDesign:
    """Combine the group terms ``names`` (all on one factor) into one :class:`FactorDesign`."""
    blocks = tuple(b for b in design.blocks if b.name in names)
    first = blocks[0]
    for block in blocks[1:]:
        if block.levels != first.levels or not np.array_equal(block.codes, first.codes):
            raise ModelSpecError(
                f"Group terms '{first.name}' and '{block.name}' do not share their groups, so "
                "they cannot be marginalised together; use another parameterization."
            )
    Z = np.concatenate([b.Z for b in blocks], axis=1)
    return FactorDesign(blocks, Z, first.codes, len(first.levels))


def _block_diag(chols: list[Any]) -> Any:
    if len(chols) == 1:
        return chols[0]
    return pt.linalg.block_diag(*chols)


def _logdet_and_quad(S: Any, t: Any, L: Any, sigma2: Any, q: int) -> tuple[Any, Any]:
    """``Σ_j log|M_j|`` and ``Σ_j w_j' M_j⁻¹ w_j`` with ``M_j = σ² I + L' S_j L``, ``w_j = L' t_j``.

    ``S``: (J, q, q) constant, ``t``: (J, q), ``L``: lower-triangular (q, q).
    """
    if q == 1:
        l11 = L[0, 0]
        m = sigma2 + l11**2 * S[:, 0, 0]
        w = l11 * t[:, 0]
        return pt.log(m).sum(), (w**2 / m).sum()
    if q == 2:
        l11, l21, l22 = L[0, 0], L[1, 0], L[1, 1]
        s11, s12, s22 = S[:, 0, 0], S[:, 0, 1], S[:, 1, 1]
        a = s11 * l11 + s12 * l21
        b = s12 * l11 + s22 * l21
        m11 = sigma2 + l11 * a + l21 * b
        m12 = (l11 * s12 + l21 * s22) * l22
        m22 = sigma2 + l22**2 * s22
        w1 = l11 * t[:, 0] + l21 * t[:, 1]
        w2 = l22 * t[:, 1]
        det = m11 * m22 - m12**2
        quad = (m22 * w1**2 - 2.0 * m12 * w1 * w2 + m11 * w2**2) / det
        return pt.log(det).sum(), quad.sum()
    A = pt.einsum("ka,jkl,lb->jab", L, S, L)
    M = A + sigma2 * pt.eye(q)
    C = pt.linalg.cholesky(M)
    w = pt.einsum("ka,jk->ja", L, t)
    v = pt.linalg.solve_triangular(C, w[..., None], lower=True)
    logdet = 2.0 * pt.log(pt.diagonal(C, axis1=-2, axis2=-1)).sum()
    return logdet, (v**2).sum()


def add_marginal_likelihood(
    design: Design,
    factor: FactorDesign,
    chols: list[Any],
    sigma: Any,
    theta: Any,
    W: np.ndarray,
    rest: Any | None,
) -> Any:
    """Add the marginal log-likelihood as a potential named ``marginal_loglik``.

    Parameters
    ----------
    factor : FactorDesign
        The marginalised factor.
    chols : list
        Cholesky factors of each of the factor's terms (block-diagonal together).
    sigma : tensor
        Residual SD.
    theta : tensor or None
        Fixed-effect parameters, with ``W @ theta`` the fixed part of the linear predictor.
    W : ndarray, shape (n, p)
    rest : tensor or None
        Linear predictor of the other grouping factors (None when there are none); the fixed
        part is then handled through sufficient statistics.
    """
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero  # an offset shifts y
    n, q, J = len(y), factor.q, factor.n_groups
    L = _block_diag(chols)
    sigma2 = sigma**2
    S = pt.as_tensor(factor.cross(factor.Z))
    if rest is None:
        rr, t = centred_residual_sums(y, W, theta, factor.cross)
    else:
        r = y - rest - (pt.dot(pt.as_tensor(W), theta) if W.shape[1] else 0.0)
        rr = (r**2).sum()
        t = pt.inc_subtensor(pt.zeros((J, q))[factor.codes], pt.as_tensor(factor.Z) * r[:, None])
    logdet, quad = _logdet_and_quad(S, t, L, sigma2, q)
    loglik = -0.5 * (
        n * np.log(2.0 * np.pi) + (n - J * q) * pt.log(sigma2) + logdet + (rr - quad) / sigma2
    )
    return pm.Potential(MARGINAL_POTENTIAL, loglik)


def centred_residual_sums(
    y: np.ndarray, W: np.ndarray, theta: Any, cross: Callable[[np.ndarray], np.ndarray]
) -> tuple[Any, Any]:
    """``r'r`` and the group sums ``Z'r`` of the residual ``r = y - W θ``, from sums of the data.

    ``y`` is centred first when ``W`` has an intercept (the intercept absorbs the shift), which
    keeps ``r'r = y'y - 2θ'W'y + θ'W'Wθ`` free of cancellation. ``cross`` maps an (n, k) array to
    its group sums with ``Z`` (``(..., k)``: per group and column of ``Z``).
    """
    shift = float(y.mean()) if W.shape[1] and np.all(W[:, 0] == 1.0) else 0.0
    yc = y - shift
    t = pt.as_tensor(cross(yc[:, None])[..., 0])
    if not W.shape[1]:
        return pt.as_tensor(float(yc @ yc)), t
    th = pt.set_subtensor(theta[0], theta[0] - shift) if shift else theta
    rr = float(yc @ yc) - 2.0 * pt.dot(th, W.T @ yc) + pt.dot(th, pt.dot(W.T @ W, th))
    return rr, t - pt.dot(pt.as_tensor(cross(W)), th)
