"""Normalization and dropout layers as forward/backward pairs, for the lesson on the fixes.

Each layer sits between a layer's weighted input v (N, D) and its activation. Normalizing
over a set S of m elements (the batch for one unit, the units of one sample, or one group
of units of one sample) and then scaling and shifting per unit:

    mu = mean_S v,   sigma^2 = mean_S (v - mu)^2,   inv_std = 1 / sqrt(sigma^2 + eps)
    xhat = (v - mu) inv_std,                        out = gamma * xhat + beta

    batch norm  S = the N samples of one unit      mean, var (D,)      (Ioffe and Szegedy 2015)
    layer norm  S = the D units of one sample      mean, var (N, 1)    (Ba, Kiros and Hinton 2016)
    group norm  S = D/G contiguous units of one    mean, var (N, G)    (Wu and He 2018)
                sample; G = 1 is layer norm, G = D is instance norm over single units

The variance is the biased one (divide by m), as in Algorithm 1 of Ioffe and Szegedy.
The backward pass, written by hand, is the same for every S, with dxhat = dout * gamma:

    dv = inv_std / m * (m dxhat - sum_S dxhat - xhat * sum_S (dxhat xhat))
    dgamma = sum over the batch of dout * xhat,   dbeta = sum over the batch of dout

Gradient convention: every backward here returns the exact gradient of sum(dout * out)
with respect to its inputs and parameters, so dgamma and dbeta are *sums* over the batch.
When the cost is a mean over the batch, the caller passes dout already divided by N.

Batch norm alone behaves differently at inference: ``batchnorm_inference`` uses running
averages of the statistics (``update_running``), so each sample's output is independent
of the rest of the batch. Following PyTorch, the running variance is fed the *unbiased*
batch variance sigma^2 N / (N - 1), while training itself normalizes with the biased one.

Arrays are float32 or float64, and every function keeps the dtype it is given.

Non-goals: convolutional (N, C, H, W) layouts, and an inference mode for layer and group
norm (they are identical in training and inference).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

Array = np.ndarray

METHODS = ("batch", "layer", "group")


class NormRecord(NamedTuple):
    """What a normalization's backward needs and what a page plots.

    v (N, D): the input. xhat (N, D): the normalized values, before gamma and beta.
    mean, var, inv_std: the statistics, (D,) for batch norm, (N, 1) for layer norm and
    (N, G) for group norm (column g covers units g*D/G .. (g+1)*D/G - 1); var is biased.
    method: "batch", "layer" or "group".
    """

    v: Array
    xhat: Array
    mean: Array
    var: Array
    inv_std: Array
    method: str

    @property
    def groups(self) -> int:
        """G, the number of groups of units per sample (1 for layer norm, 0 for batch norm)."""
        return 0 if self.method == "batch" else self.mean.shape[1]


def batchnorm_forward(
    v: Array, gamma: Array, beta: Array, eps: float = 1e-5
) -> tuple[Array, NormRecord]:
    """Batch norm in training mode: statistics of each unit over the batch (axis 0).

    v (N, D), gamma (D,), beta (D,); eps > 0 keeps a constant unit finite.
    Returns out (N, D) = gamma * xhat + beta and the record, with mean, var (D,).
    """
    n = v.shape[0]
    mean = v.sum(axis=0) / n
    centered = v - mean
    var = np.einsum("ij,ij->j", centered, centered) / n  # sum of squares without a temporary
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = np.multiply(centered, inv_std, out=centered)  # centered is ours: reuse its memory
    return _scale_shift(xhat, gamma, beta), NormRecord(v, xhat, mean, var, inv_std, "batch")


def _scale_shift(x: Array, scale: Array, shift: Array) -> Array:
    """x (N, D) * scale (D,) + shift (D,), allocating one array: at large N a fresh (N, D)
    temporary costs as much as the arithmetic."""
    out = x * scale
    out += shift
    return out


def batchnorm_inference(
    v: Array, gamma: Array, beta: Array, mean: Array, var: Array, eps: float = 1e-5
) -> Array:
    """Batch norm at inference: a fixed affine map per unit, from the running statistics.

    v (N, D); gamma, beta, mean, var (D,). out = gamma (v - mean) / sqrt(var + eps) + beta,
    computed elementwise, so one sample's output does not depend on the rest of the batch.
    """
    scale = gamma / np.sqrt(var + eps)
    return _scale_shift(v, scale, beta - mean * scale)


def update_running(
    running_mean: Array, running_var: Array, record: NormRecord, momentum: float = 0.1
) -> tuple[Array, Array]:
    """Exponential moving averages of batch norm's statistics, returned as new arrays.

    running_mean, running_var (D,); record from ``batchnorm_forward`` on a batch of N >= 2.
    mean <- (1 - momentum) mean + momentum mu_B
    var  <- (1 - momentum) var  + momentum sigma_B^2 N / (N - 1)   (unbiased, as PyTorch)
    """
    if record.method != "batch":
        raise ValueError(f"running statistics belong to batch norm, not {record.method!r} norm")
    n = record.v.shape[0]
    if n < 2:
        raise ValueError("the unbiased running variance needs a batch of at least 2 samples")
    mean = (1.0 - momentum) * running_mean + momentum * record.mean
    var = (1.0 - momentum) * running_var + (momentum * n / (n - 1)) * record.var
    return mean, var


def groupnorm_forward(
    v: Array, gamma: Array, beta: Array, groups: int, eps: float = 1e-5
) -> tuple[Array, NormRecord]:
    """Group norm: statistics of each sample over G contiguous groups of D/G units.

    v (N, D), gamma (D,), beta (D,); groups = G must divide D. Returns out (N, D) and the
    record, with mean, var (N, G). G = D normalizes single units: xhat = 0, out = beta.
    """
    n, d = v.shape
    if groups < 1 or d % groups:
        raise ValueError(f"groups={groups} must be a positive divisor of the {d} units")
    return _group_forward(v, gamma, beta, groups, eps, "group")


def layernorm_forward(
    v: Array, gamma: Array, beta: Array, eps: float = 1e-5
) -> tuple[Array, NormRecord]:
    """Layer norm: statistics of each sample over its D units, in training and inference alike.

    v (N, D), gamma (D,), beta (D,). Returns out (N, D) and the record, with mean, var
    (N, 1); exactly group norm with G = 1.
    """
    return _group_forward(v, gamma, beta, 1, eps, "layer")


def _group_forward(v, gamma, beta, groups, eps, method):
    n, d = v.shape
    vg = v.reshape(n, groups, d // groups)
    mean = vg.mean(axis=2)
    centered = vg - mean[:, :, None]
    var = np.einsum("ngk,ngk->ng", centered, centered) / (d // groups)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = np.multiply(centered, inv_std[:, :, None], out=centered).reshape(n, d)
    return _scale_shift(xhat, gamma, beta), NormRecord(v, xhat, mean, var, inv_std, method)


def normalize(
    method: str, v: Array, gamma: Array, beta: Array, *, groups: int = 1, eps: float = 1e-5
) -> tuple[Array, NormRecord]:
    """Dispatch to batch, layer or group norm (training mode); ``groups`` is for "group"."""
    if method == "batch":
        return batchnorm_forward(v, gamma, beta, eps)
    if method == "layer":
        return layernorm_forward(v, gamma, beta, eps)
    if method == "group":
        return groupnorm_forward(v, gamma, beta, groups, eps)
    raise ValueError(f"unknown normalization {method!r}; choose one of {METHODS}")


def norm_backward(dout: Array, gamma: Array, record: NormRecord) -> tuple[Array, Array, Array]:
    """Backward of any normalization above: gradients of sum(dout * out).

    dout (N, D), gamma (D,), record from the forward pass. Returns dv (N, D) and
    dgamma, dbeta (D,), the latter two summed (not averaged) over the batch.
    """
    xhat = record.xhat
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, xhat)
    if record.method == "batch":
        # S is the batch and gamma is constant over it, so sum_S dxhat = gamma dbeta and
        # sum_S dxhat xhat = gamma dgamma: the two reductions are already done, and
        # dv = gamma inv_std (dout - dbeta / N - xhat dgamma / N), built in place.
        n = dout.shape[0]
        dv = xhat * (dgamma / n)
        np.subtract(dout, dv, out=dv)
        dv -= dbeta / n
        dv *= gamma * record.inv_std
    else:
        dv = _group_backward(dout, gamma, record)
    return dv, dgamma, dbeta


def _group_backward(dout: Array, gamma: Array, record: NormRecord) -> Array:
    """dv (N, D) for statistics over groups of m = D/G units within each sample."""
    n, d = dout.shape
    g = record.mean.shape[1]
    m = d // g
    dxhat = (dout * gamma).reshape(n, g, m)
    xhat = record.xhat.reshape(n, g, m)
    sum_dxhat = dxhat.sum(axis=2, keepdims=True)
    sum_dxhat_xhat = np.einsum("ngk,ngk->ng", dxhat, xhat)[:, :, None]
    dv = np.multiply(dxhat, m, out=dxhat)  # dxhat is ours and no longer needed
    dv -= sum_dxhat
    dv -= xhat * sum_dxhat_xhat
    dv *= record.inv_std[:, :, None] / m
    return dv.reshape(n, d)


def dropout_forward(
    a: Array, keep: float, *, rng: np.random.Generator
) -> tuple[Array, Array | None]:
    """Inverted dropout: keep each unit with probability ``keep`` and scale it by 1 / keep.

    a (N, D) float; 0 < keep <= 1. mask = (u < keep) / keep with u ~ U[0, 1) from rng,
    out = a * mask, so E[out] = a and nothing changes at inference. For keep == 1, returns
    a itself and mask None (no random numbers drawn).
    """
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep={keep} must lie in (0, 1]")
    if keep == 1.0:
        return a, None
    mask = rng.random(a.shape)
    np.less(mask, keep, out=mask)  # in place: 1.0 where kept, 0.0 where dropped
    mask *= 1.0 / keep
    mask = mask.astype(a.dtype, copy=False)  # float32 activations stay float32
    return a * mask, mask


def dropout_backward(dout: Array, mask: Array | None) -> Array:
    """Gradient of sum(dout * out) w.r.t. a: dout * mask (dout itself when mask is None)."""
    return dout if mask is None else dout * mask
