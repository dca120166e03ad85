"""Black-box recovery: is pooled_output tanh of *some* affine map of cls?

Uses only the module's outputs. With N >= H+1 texts, atanh(pooled) = [cls, 1] · [W; b]
is an overdetermined linear system, solved by least squares. Values with
|pooled| > CLIP are dropped (atanh amplifies their float32 error by 1 / (1 - p^2)).
The fit is then judged on held-out texts, and compared with the stored weights,
column by column, to pinpoint where a graph's weights differ from the stored ones.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfhub_pooling.numerics import bounds

CLIP = 0.999
# LayerNorm makes [cls, 1] rank-deficient: sum_i (cls_i - beta_i) / gamma_i = 0 for
# every text, so W is undetermined along that direction (and any other direction
# cls never varies in). Singular values below RCOND x the largest are treated as
# zero, giving the minimum-norm W instead of noise amplified by 1e8.
RCOND = 1e-6
# The recovered map explains pooled_output when its held-out error is this small.
HELD_OUT_LIMIT = 1e-3


@dataclasses.dataclass
class Differing:
    """One stored-weight column that the module's outputs contradict."""

    col: int
    row: int                 # the single kernel row that best explains the column's residual
    delta: float             # the change to kernel[row, col] that explains it
    explained: float         # fraction of the residual's energy that change explains


@dataclasses.dataclass
class Recovery:
    n_fit: int
    n_held_out: int
    dropped: int                         # pooled values left out of the fit (|p| > CLIP)
    kernel: np.ndarray                   # recovered [H, H]
    bias: np.ndarray                     # recovered [H]
    held_out_max_abs: float              # |tanh(cls · W_rec + b_rec) - pooled| on held-out texts
    explains: bool                       # the recovered affine map reproduces pooled_output
    unfit_columns: int                   # columns with too few unsaturated values to fit
    stored_kernel_max_abs: float | None  # max |W_rec - W_stored|; includes the null direction
    differing: list[Differing]           # stored-weight columns the outputs contradict


def recover(cls_fit: np.ndarray, pooled_fit: np.ndarray, cls_held: np.ndarray,
            pooled_held: np.ndarray, stored_kernel: np.ndarray | None = None,
            stored_bias: np.ndarray | None = None) -> Recovery:
    """cls_*, pooled_* [N, H]; returns the recovered map and how it compares."""
    n, h = cls_fit.shape
    if n < h + 1:
        raise ValueError(f"recovery needs at least H+1 = {h + 1} texts, got {n}")
    x = np.hstack([cls_fit.astype(np.float64), np.ones((n, 1))])      # [N, H+1]
    p = pooled_fit.astype(np.float64)
    keep = np.abs(p) <= CLIP
    y = np.arctanh(np.where(keep, p, 0.0))
    wb = np.empty((h + 1, h))
    full = keep.all(axis=0)
    if full.any():
        wb[:, full] = np.linalg.lstsq(x, y[:, full], rcond=RCOND)[0]
    for j in np.flatnonzero(~full):
        rows = keep[:, j]
        wb[:, j] = np.linalg.lstsq(x[rows], y[rows, j], rcond=RCOND)[0] if rows.sum() > h else np.nan
    kernel, bias = wb[:h], wb[h]
    predicted = np.tanh(cls_held.astype(np.float64) @ np.nan_to_num(kernel) + np.nan_to_num(bias))
    held_out = float(np.abs(predicted - pooled_held).max())
    explains = bool(np.isfinite(wb).all() and held_out <= HELD_OUT_LIMIT)
    stored_diff, differing = None, []
    if stored_kernel is not None:
        stored_diff = float(np.nanmax(np.abs(kernel - stored_kernel)))
        # Pinpointing assumes an affine map; without one its rows would mean nothing.
        if explains:
            differing = _pinpoint(cls_fit, p, y, keep, stored_kernel, stored_bias)
    return Recovery(n, len(cls_held), int((~keep).sum()), kernel, bias, held_out, explains,
                    int(np.isnan(kernel).any(axis=0).sum()), stored_diff, differing)


def _pinpoint(cls: np.ndarray, pooled: np.ndarray, atanh_pooled: np.ndarray, keep: np.ndarray,
              kernel: np.ndarray, bias: np.ndarray) -> list[Differing]:
    """Columns where atanh(pooled) departs from cls · W + b beyond rounding error (in the
    precision the pooler ran in), and for each the one kernel row whose change explains
    the departure best."""
    precision = bounds.precision_of(pooled, cls)
    kernel, bias = bounds.as_computed(kernel, bias, precision)
    z_stored = cls.astype(np.float64) @ kernel + bias
    residual = np.where(keep, atanh_pooled - z_stored, 0.0)
    # The pooler bound, carried through atanh: its slope is 1 / (1 - p^2).
    bound = (bounds.pooler_error_bound(cls, kernel, bias, precision)
             / (1.0 - np.where(keep, pooled, 0.0) ** 2))
    out = []
    c = cls.astype(np.float64)
    for j in np.flatnonzero((np.abs(residual) > bound).any(axis=0)):
        r, rows = residual[:, j], keep[:, j]
        cr = c[rows]
        deltas = cr.T @ r[rows] / np.einsum("ni,ni->i", cr, cr)
        left = ((r[rows][:, None] - cr * deltas) ** 2).sum(axis=0)
        i = int(np.argmin(left))
        energy = float((r[rows] ** 2).sum())
        out.append(Differing(int(j), i, float(deltas[i]), 1.0 - float(left[i]) / energy))
    return sorted(out, key=lambda d: -abs(d.delta))
