"""VerifyResult -> what people and machines read: a terminal table, JSON, npz."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

import numpy as np

from tfhub_pooling import comparison
from tfhub_pooling.encoder_inputs import Text
from tfhub_pooling.study import VerifyResult


def text_label(t: Text) -> str:
    return t if isinstance(t, str) else f"{t[0]} ||| {t[1]}"


def _short(s: str, width: int) -> str:
    return s if len(s) <= width else s[:width - 1] + "…"


def to_json(r: VerifyResult) -> dict[str, Any]:
    c = r.comparison
    per_text = []
    for i, t in enumerate(r.texts):
        entry = {"text": t if isinstance(t, str) else list(t),
                 "token_count": int(r.inputs.token_counts[i]),
                 "truncated": bool(r.inputs.truncated[i]),
                 "pooled_vs_cls": {"max_abs_diff": float(c.pooled_vs_cls.per_text_max_abs[i]),
                                   "cosine": float(c.pooled_vs_cls.per_text_cosine[i])}}
        if c.pooled_vs_rebuilt is not None:
            entry["pooled_vs_rebuilt"] = {
                "max_abs_diff": float(c.pooled_vs_rebuilt.per_text_max_abs[i]),
                "cosine": float(c.pooled_vs_rebuilt.per_text_cosine[i])}
        per_text.append(entry)
    pooler = None
    if r.pooler is not None:
        pooler = {"scheme": r.pooler.scheme, "source": r.pooler.source,
                  "checkpoint": r.pooler.checkpoint,
                  "kernel": {"name": r.pooler.kernel_name, "shape": list(r.pooler.kernel.shape)},
                  "bias": {"name": r.pooler.bias_name, "shape": list(r.pooler.bias.shape)}}
    return {
        "handle": r.handle,
        "resolved_path": r.path,
        "format": r.format,
        "signature": r.signature,
        "vocab_file": r.vocab_file,
        "do_lower_case": r.do_lower_case,
        "max_seq_length": r.max_seq_length,
        "tokenizer": r.tokenizer,
        "pooler": pooler,
        "pooler_search": r.pooler_search,
        "texts": per_text,
        "metrics": {
            "pooled_vs_cls": c.pooled_vs_cls.as_dict(),
            "pooled_vs_rebuilt": c.pooled_vs_rebuilt and c.pooled_vs_rebuilt.as_dict(),
            "pooled_vs_rebuilt_float32": c.pooled_vs_rebuilt32 and c.pooled_vs_rebuilt32.as_dict(),
        },
        "tolerance": {
            "kind": "per-element float32 rounding bound: gamma_(H+1) * (|cls|·|W| + |b|) + 8u",
            "unit_roundoff": comparison.U32,
            "max": c.tolerance_max,
            "worst_ratio": c.worst_bound_ratio,
            "elements_outside": c.elements_outside,
        },
        "recovery": r.recovery and {
            "n_fit": r.recovery.n_fit, "n_held_out": r.recovery.n_held_out,
            "dropped": r.recovery.dropped, "held_out_max_abs_diff": r.recovery.held_out_max_abs,
            "explains": r.recovery.explains,
            "recovered_vs_stored_kernel_max_abs_diff": r.recovery.stored_kernel_max_abs,
            "differing": [dataclasses.asdict(d) for d in r.recovery.differing]},
        "verdict": c.verdict,
        "reason": c.reason,
        "exit_code": c.exit_code,
    }


def json_text(r: VerifyResult) -> str:
    return json.dumps(to_json(r), indent=2, ensure_ascii=False)


def terminal(r: VerifyResult) -> str:
    c = r.comparison
    lines = [
        "Is pooled_output = tanh(cls · W + b), with cls = sequence_output[:, 0, :]?",
        f"module   {r.handle}",
        f"         {r.format}, signature `{r.signature}`, max {r.max_seq_length} tokens",
        f"inputs   {r.tokenizer}",
    ]
    if r.pooler is not None:
        lines.append(f"pooler   W = {r.pooler.kernel_name} {list(r.pooler.kernel.shape)}, "
                     f"b = {r.pooler.bias_name} {list(r.pooler.bias.shape)}")
    lines.append(f"         {r.pooler_search}")
    lines.append("")
    header = f"{'#':>2} {'tokens':>6} {'max|pooled-cls|':>15} {'cos':>7} {'max|pooled-rebuilt|':>19} {'cos':>9}  text"
    lines.append(header)
    for i, t in enumerate(r.texts):
        rebuilt = ("-", "-")
        if c.pooled_vs_rebuilt is not None:
            rebuilt = (f"{c.pooled_vs_rebuilt.per_text_max_abs[i]:.2e}",
                       f"{c.pooled_vs_rebuilt.per_text_cosine[i]:.7f}")
        tokens = f"{r.inputs.token_counts[i]}{'*' if r.inputs.truncated[i] else ''}"
        lines.append(f"{i + 1:>2} {tokens:>6} {c.pooled_vs_cls.per_text_max_abs[i]:>15.4f} "
                     f"{c.pooled_vs_cls.per_text_cosine[i]:>7.4f} {rebuilt[0]:>19} {rebuilt[1]:>9}  "
                     f"{_short(text_label(t), 48)}")
    if r.inputs.truncated.any():
        lines.append("   * trimmed to the module's maximum length")
    lines.append("")
    m = c.pooled_vs_cls
    lines.append(f"pooled vs cls      max |diff| {m.max_abs:.4f}  mean {m.mean_abs:.4f}  "
                 f"min cosine {m.min_cosine:.4f}   (the question's observation)")
    if c.pooled_vs_rebuilt is not None:
        m64, m32 = c.pooled_vs_rebuilt, c.pooled_vs_rebuilt32
        lines.append(f"pooled vs rebuilt  max |diff| {m64.max_abs:.2e}  mean {m64.mean_abs:.2e}  "
                     f"min cosine {m64.min_cosine:.7f}   (float64; float32: max {m32.max_abs:.2e})")
        lines.append(f"tolerance          per-element float32 bound, largest {c.tolerance_max:.2e}; "
                     f"worst element at {c.worst_bound_ratio:.3g} of its bound")
    lines.append(f"verdict            {c.verdict}: {c.reason}")
    return "\n".join(lines)


def save_arrays(r: VerifyResult, path: str) -> None:
    """Writes the npz whole or not at all (temp file beside it, then rename)."""
    arrays = {"input_ids": r.inputs.input_ids, "input_mask": r.inputs.input_mask,
              "segment_ids": r.inputs.segment_ids, "pooled_output": r.pooled_output,
              "sequence_output": r.sequence_output}
    if r.rebuilt is not None:
        arrays["rebuilt"] = r.rebuilt
    write_atomically(path, lambda f: np.savez(f, **arrays))


def write_atomically(path: str, write) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
