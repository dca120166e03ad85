"""The study as a picture: three panels.

  1. the question itself: pooled_output[0] and sequence_output[0, 0, :] element by
     element for the first text, with the rebuilt tanh(cls · W + b) on top of pooled;
  2. pooled_output against the rebuilt tanh(cls · W + b) over every text: on the diagonal;
  3. |pooled - rebuilt| per element, with the float32 bound marked.

`figure` draws it (a notebook shows it inline); `plot` writes it to a file.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from tfhub_pooling import atomic
from tfhub_pooling.study.results import VerifyResult

SHOWN_ELEMENTS = 48    # of the first text's H, enough to see the two vectors part


def _quiet_matplotlib() -> None:
    # Before matplotlib is first imported: with HOME read-only, it warns that it made a
    # temporary cache; that is its business, not the report's.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def figure(r: VerifyResult) -> Any:
    """The three panels as a matplotlib Figure."""
    _quiet_matplotlib()
    import matplotlib.pyplot as plt

    c = r.comparison
    pooled = r.pooled_output.ravel()
    fig, axes = plt.subplots(1, 3, figsize=(15, 5), constrained_layout=True)

    ax = axes[0]
    n = min(SHOWN_ELEMENTS, r.pooled_output.shape[1])
    index = np.arange(n)
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.plot(index, r.cls[0, :n], "o-", ms=3, lw=0.8, color="tab:red", label="sequence_output[0, 0, :] (cls)")
    ax.plot(index, r.pooled_output[0, :n], "o-", ms=3, lw=1.2, color="tab:blue", label="pooled_output[0]")
    if r.rebuilt is not None:
        ax.plot(index, r.rebuilt[0, :n], "x", ms=5, color="black", label="tanh(cls · W + b), rebuilt")
    ax.legend(loc="upper right", fontsize=8)
    ax.set(xlabel=f"element (the first {n} of {r.pooled_output.shape[1]})", ylabel="value",
           title=f"text 1: pooled vs cls, max |diff| {c.pooled_vs_cls.max_abs:.3g} over all texts")

    ax = axes[1]
    rb = c.rebuild
    if rb is not None and rb.rebuilt is not None:
        ax.scatter(rb.rebuilt.ravel(), pooled, s=3, alpha=0.4, color="tab:blue")
        edge = np.abs(pooled).max() * 1.1
        ax.plot([-edge, edge], [-edge, edge], color="grey", lw=0.8, ls="--")
        ax.set(title=f"pooled vs tanh(cls·W+b): max |diff| {rb.pooled_vs_rebuilt.max_abs:.2e}")
    else:
        ax.text(0.5, 0.5, "no pooler weights stored", ha="center", transform=ax.transAxes)
    ax.set(xlabel="rebuilt tanh(cls · W + b)", ylabel="pooled_output")

    ax = axes[2]
    if rb is not None and rb.rebuilt is not None:
        diff = np.abs(r.pooled_output.astype(np.float64) - rb.rebuilt).ravel()
        floor = np.finfo(np.float32).tiny
        bins = np.logspace(np.log10(max(diff.min(), 1e-12)), np.log10(max(rb.tolerance_max, diff.max()) * 2), 50)
        ax.hist(np.maximum(diff, floor), bins=bins, color="tab:blue")
        ax.axvline(rb.tolerance_max, color="tab:red", label=f"largest {c.precision} bound {rb.tolerance_max:.2e}")
        ax.set_xscale("log")
        ax.legend(loc="upper left")
        ax.set(title=f"|pooled − rebuilt|: worst at {rb.worst_bound_ratio:.3g} of its bound")
    ax.set(xlabel="|pooled − rebuilt| per element", ylabel="elements")

    fig.suptitle(f"{r.module.handle}  ({r.module.format}, {len(r.texts)} texts, H = {r.pooled_output.shape[1]})  "
                 f"verdict: {r.verdict}", fontsize=11)
    return fig


def plot(r: VerifyResult, path: str) -> None:
    """Writes the figure in the format path's extension names (png, svg, pdf), whole or not at all."""
    _quiet_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = figure(r)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    atomic.write_file(path, lambda f: fig.savefig(f, format=fmt, dpi=110), "--plot")
    plt.close(fig)
