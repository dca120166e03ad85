"""Model Garden's export checks on a dict encoder, in one place: measured on each batch's
outputs, merged over batches, and judged against what the module's stored layers imply.

What official/nlp/tools/export_tfhub_lib_test.py asserts of an export: `default` is
pooled_output, `encoder_outputs` holds one entry a layer (MobileBERT's holds the
embeddings first, so one more), and its last entry is sequence_output. The same tensors
must come back, so the differences must be exactly 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Checks:
    encoder_outputs: int | None          # entries of `encoder_outputs`; None where it is missing
    default_vs_pooled: float | None      # max |default - pooled_output|; None without `default`
    last_layer_vs_sequence: float | None  # max |encoder_outputs[-1] - sequence_output|


def measure(out: dict[str, Any]) -> Checks:
    """The checks on one call's outputs (TensorFlow tensors), so the per-layer tensors
    never leave TensorFlow."""
    import tensorflow as tf

    layers = out.get("encoder_outputs")

    def max_abs_diff(a: Any, b: Any) -> float:
        return float(tf.reduce_max(tf.abs(a - b)))

    return Checks(
        encoder_outputs=None if layers is None else len(layers),
        default_vs_pooled=max_abs_diff(out["default"], out["pooled_output"]) if "default" in out else None,
        last_layer_vs_sequence=max_abs_diff(layers[-1], out["sequence_output"]) if layers else None)


def merge(checks: Sequence[Checks | None]) -> Checks | None:
    """Many batches' checks as one: the largest differences (the count is the module's)."""
    present = [c for c in checks if c is not None]
    if not present:
        return None

    def largest(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known) if known else None

    return Checks(encoder_outputs=present[0].encoder_outputs,
                  default_vs_pooled=largest([c.default_vs_pooled for c in present]),
                  last_layer_vs_sequence=largest([c.last_layer_vs_sequence for c in present]))


def problems(checks: Checks | None, expected_outputs: int | None) -> list[str]:
    """Each breach of the export checks, in words; expected_outputs: the `encoder_outputs`
    entries the stored layers imply, or None where they are unknown."""
    if checks is None:
        return []
    found = []
    if checks.default_vs_pooled is None:
        found.append("it returns no `default` output")
    elif checks.default_vs_pooled != 0:
        found.append(f"`default` differs from pooled_output (max |diff| {checks.default_vs_pooled:.3g})")
    if checks.encoder_outputs is None:
        found.append("it returns no `encoder_outputs`")
    elif expected_outputs is not None and checks.encoder_outputs != expected_outputs:
        found.append(f"`encoder_outputs` has {checks.encoder_outputs} entries where the stored layers "
                     f"imply {expected_outputs}")
    if checks.last_layer_vs_sequence is not None and checks.last_layer_vs_sequence != 0:
        found.append("the last `encoder_outputs` entry differs from sequence_output "
                     f"(max |diff| {checks.last_layer_vs_sequence:.3g})")
    return found


def report(checks: Checks | None, expected_outputs: int | None) -> dict[str, Any] | None:
    """The checks, what they were held to, and their breaches: what the reports show."""
    if checks is None:
        return None
    return dataclasses.asdict(checks) | {"expected_encoder_outputs": expected_outputs,
                                         "problems": problems(checks, expected_outputs)}
