"""Results -> what people and machines read: the terminal report, Markdown, JSON, npz.

One reporter per output kind (REPORTERS), each with a renderer for a single run, a
corpus run and a many-module run; the CLI picks one by name. Renderers only render:
every verdict and figure comes from the result objects.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np

from tfhub_pooling import atomic
from tfhub_pooling.numerics import bounds, comparison, structure
from tfhub_pooling.reports import words
from tfhub_pooling.study import texts
from tfhub_pooling.study.loading import VOCAB_IN_MODULE, ModuleFacts, VocabSource
from tfhub_pooling.study.results import (
    CorpusResult,
    VerifyResult,
    ZooEntry,
    zoo_exit_code,
)
from tfhub_pooling.study.stored_pooler import CheckpointCheck, PoolerWeights

EXPLANATION = ("`pooled_output` is not the final-layer [CLS] vector: it is that vector passed "
               "through one more dense layer and tanh, `tanh(cls · W + b)`, with the pooler weights "
               "the module stores. The rebuilt vector matches `pooled_output` within float32 "
               "rounding, while `cls` itself does not.")


def _short(s: str, width: int) -> str:
    return s if len(s) <= width else s[:width - 1] + "…"


SCHEMA_VERSION = 5   # bumped when a field of any document changes; every document carries it


def produced_by() -> dict[str, str]:
    """What wrote a document: this tool's version and TensorFlow's, in every JSON document."""
    import tensorflow as tf

    return {"tool": "tfhub-pooling", "version": metadata.version("tfhub-pooling"), "tensorflow": tf.__version__}


def count(n: int, noun: str) -> str:
    """`1 text`, `5 texts`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


PLACE_WORDS = {
    "module-assets": "the module's own assets/",
    "beside-saved-model": "the directory save_pretrained wrote, beside saved_model/",
    "in-graph": "none as a file: the preprocessing model keeps its vocab inside its graph",
    "none": "none: the module carries no vocab_file or sp_model_file (inputs come from a preprocessing model)",
    "named-file": "the file named by --vocab",
    "checkpoint-directory": "the checkpoint directory, as transformers saved its tokenizer",
}


def vocab_words(source: VocabSource, lower_case: bool | None) -> str:
    """Where the vocab came from, in words: its place, a link that leads out, and who said its casing."""
    words = PLACE_WORDS[source.place]
    if source.link_to is not None:
        words += f", through a link to {source.link_to}"
    if source.casing_from == "option":
        words += f"; casing by {'--lower-case' if lower_case else '--no-lower-case'}"
    elif source.casing_from == "tokenizer-config":
        words += "; casing from the tokenizer_config.json beside it"
    elif source.casing_from == "tokenizer-json":
        words += "; casing from tokenizer.json's normalizer"
    return words


def checkpoint_words(check: CheckpointCheck) -> str:
    """What the TF checkpoint says of the pooler weights found, in words."""
    return {"matches": f"matches ({', '.join(check.names)})",
            "differs": f"no checkpoint entry equals {check.names[0] if check.names else 'them'}",
            "no-checkpoint": "no TF checkpoint here; read through the loaded model",
            "not-checked": "not checked",
            "read-from-file": f"the file's own {' and '.join(check.names)} (the kernel stored [out, in], "
                              "read transposed)"}[check.status]


def pooler_words(pooler: PoolerWeights) -> str:
    """Where the pooler weights were found, in words."""
    return (f"found in the {pooler.source} under the {pooler.scheme} naming; "
            f"checkpoint: {checkpoint_words(pooler.checkpoint)}")


def module_json(m: ModuleFacts) -> dict[str, Any]:
    """The `module` entry, the same in every document (verify, corpus, inspect)."""
    return {"handle": m.handle, "resolved_path": m.path, "format": m.format, "signature": m.signature,
            "graph_variant": m.graph_variant, "graph_variants": m.graph_variants,
            "vocab_file": m.vocab_file, "vocab_source": dataclasses.asdict(m.vocab_source),
            "do_lower_case": m.do_lower_case, "max_seq_length": m.max_seq_length,
            "num_layers": m.num_layers, "static_length": m.static_length, "weights_dtype": m.weights_dtype}


def pooler_json(pooler: PoolerWeights | None) -> dict[str, Any] | None:
    """The `pooler` entry, the same in every document."""
    if pooler is None:
        return None
    return {"scheme": pooler.scheme, "source": pooler.source,
            "checkpoint": {"status": pooler.checkpoint.status, "names": list(pooler.checkpoint.names)},
            "kernel": {"name": pooler.kernel_name, "shape": list(pooler.kernel.shape), "dtype": pooler.stored_dtype},
            "bias": {"name": pooler.bias_name, "shape": list(pooler.bias.shape)}}


def to_json(r: VerifyResult) -> dict[str, Any]:
    c, rb = r.comparison, r.comparison.rebuild
    per_text = []
    for i, t in enumerate(r.texts):
        entry = {"text": texts.as_json(t),
                 "token_count": int(r.inputs.token_counts[i]),
                 "truncated": bool(r.inputs.truncated[i]),
                 "pooled_vs_cls": {"max_abs_diff": float(c.pooled_vs_cls.per_text_max_abs[i]),
                                   "cosine": float(c.pooled_vs_cls.per_text_cosine[i])}}
        if rb is not None:
            entry["pooled_vs_rebuilt"] = {
                "max_abs_diff": float(rb.pooled_vs_rebuilt.per_text_max_abs[i]),
                "cosine": float(rb.pooled_vs_rebuilt.per_text_cosine[i])}
        per_text.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "produced_by": produced_by(),
        "module": module_json(r.module),
        "inputs": {"tokenizer": r.tokenizer, "trimmed_to": r.trimmed_to, "text_count": len(r.texts),
                   "padded_to": r.padded_to, "shortened_to": r.shortened_to},
        "pooler": pooler_json(r.pooler),
        "pooler_search": r.pooler_search,
        "texts": per_text,
        "metrics": {
            "pooled_vs_cls": c.pooled_vs_cls.as_dict(),
            "pooled_vs_rebuilt": rb and rb.pooled_vs_rebuilt.as_dict(),
            "pooled_vs_rebuilt_float32": rb and rb.pooled_vs_rebuilt32.as_dict(),
        },
        "tolerance": {
            "kind": f"per-element {c.precision} rounding bound: gamma_(H+1) * (|cls|·|W| + |b|) + 8u",
            "precision": c.precision,
            "unit_roundoff": bounds.UNIT_ROUNDOFF[c.precision],
            "max": rb and rb.tolerance_max,
            "worst_ratio": rb and rb.worst_bound_ratio,
            "elements_outside": rb and rb.elements_outside,
            "full_float32": r.full_float32,
        },
        "structure": c.structure and c.structure.as_dict(),
        "pooler_note": c.pooler_note,
        "findings": findings_json(c),
        "saturated": c.saturated,
        "interface_checks": r.interface_checks,
        "recovery": r.comparison.recovery and {
            "n_fit": r.comparison.recovery.n_fit, "n_held_out": r.comparison.recovery.n_held_out,
            "dropped": r.comparison.recovery.dropped, "held_out_max_abs_diff": r.comparison.recovery.held_out_max_abs,
            "explains": r.comparison.recovery.explains, "seconds": r.recovery_seconds,
            "recovered_vs_stored_kernel_max_abs_diff": r.comparison.recovery.stored_kernel_max_abs,
            "differing": [dataclasses.asdict(d) for d in r.comparison.recovery.differing]},
        "verdict": c.verdict,
        "reason": words.reason(c),
        "exit_code": c.exit_code,
    }


def findings_json(c: comparison.Comparison) -> list[dict[str, Any]]:
    """The checks the verdict rests on, as data (comparison.Finding)."""
    return [dataclasses.asdict(f) for f in c.findings]


def module_lines(m: ModuleFacts) -> list[str]:
    """How the terminal reports say which module ran, and which part of it."""
    variants = ""
    if len(m.graph_variants) > 1:
        variants = f", graph variant {m.graph_variant} (inference) of {', '.join(m.graph_variants)}"
    lines = [f"         {m.format}, signature `{m.signature}`{variants}, max {m.max_seq_length} tokens"]
    if m.vocab_source != VOCAB_IN_MODULE:
        lines.append(f"         vocab from {vocab_words(m.vocab_source, m.do_lower_case)}")
    return lines


def length_lines(m: ModuleFacts, padded_to: int | None, shortened_to: int | None) -> list[str]:
    """Where the module ran at other lengths than the texts': padded up, or its sequence shortened."""
    lines = []
    if padded_to is not None:
        why = ("the length its signature fixes" if m.static_length is not None
               else "the shortest it takes above the texts' (it refused theirs; the padding is masked)")
        lines.append(f"         run padded to {padded_to} tokens, {why}")
    if shortened_to is not None:
        lines.append(f"         sequence_output has {shortened_to} rows: the encoder shortens its sequence "
                     "(as Funnel does); cls is its row 0")
    return lines


def interface_lines(checks: dict | None) -> list[str]:
    """checks: interface.report()'s dict, or None where the format has no such checks."""
    if checks is None:
        return []
    verdict = "; ".join(checks["problems"]) if checks["problems"] else "pass"
    expected = checks["expected_encoder_outputs"]
    held_to = f" (the stored layers imply {expected})" if expected is not None else " (layer count unknown)"
    return [f"interface          Model Garden's export checks: default = pooled_output, "
            f"{checks['encoder_outputs']} encoder_outputs{held_to}, last = sequence_output: {verdict}"]


def recovery_lines(r: VerifyResult) -> list[str]:
    if r.comparison.recovery is None:
        return []
    return [f"recovery           black-box fit of tanh(cls · W + b) from outputs alone, "
            f"{r.recovery_seconds:.1f} s: {words.recovery_words(r.comparison.recovery)}"]


def structure_lines(s: structure.Structure | None) -> list[str]:
    if s is None:
        return []
    second = (f"; a second look, after a suspicious first on {structure.TEXTS} texts"
              if s.looks > 1 else "")
    return [f"structure          strongest residual shape: W[{s.row}, {s.col}] across {s.texts} texts{second}, "
            f"t = {s.t:.3g}, false-alarm probability {s.false_alarm:.2g} (decides below {structure.ALPHA:g})"]


def terminal(r: VerifyResult) -> str:
    c = r.comparison
    lines = [
        "Is pooled_output = tanh(cls · W + b), with cls = sequence_output[:, 0, :]?",
        f"module   {r.module.handle}",
        *module_lines(r.module),
        f"inputs   {r.tokenizer}, trimmed to {r.trimmed_to} tokens",
        *length_lines(r.module, r.padded_to, r.shortened_to),
    ]
    if r.pooler is not None:
        lines.append(f"pooler   W = {r.pooler.kernel_name} {list(r.pooler.kernel.shape)}, "
                     f"b = {r.pooler.bias_name} {list(r.pooler.bias.shape)}")
    lines.append(f"         {pooler_words(r.pooler) if r.pooler else r.pooler_search}")
    lines.append("")
    header = (f"{'#':>2} {'tokens':>6} {'max|pooled-cls|':>15} {'cos(p,cls)':>10} {'max|pooled-rebuilt|':>19} "
              f"{'cos(p,rebuilt)':>14}  text")
    lines.append(header)
    for i, t in enumerate(r.texts):
        rebuilt = ("-", "-")
        if c.rebuild is not None:
            rebuilt = (f"{c.rebuild.pooled_vs_rebuilt.per_text_max_abs[i]:.2e}",
                       f"{c.rebuild.pooled_vs_rebuilt.per_text_cosine[i]:.7f}")
        tokens = f"{r.inputs.token_counts[i]}{'*' if r.inputs.truncated[i] else ''}"
        lines.append(f"{i + 1:>2} {tokens:>6} {c.pooled_vs_cls.per_text_max_abs[i]:>15.4f} "
                     f"{c.pooled_vs_cls.per_text_cosine[i]:>10.4f} {rebuilt[0]:>19} {rebuilt[1]:>14}  "
                     f"{_short(texts.label(t), 48)}")
    if r.inputs.truncated.any():
        lines.append("   * trimmed to the module's maximum length")
    lines.append("")
    m = c.pooled_vs_cls
    lines.append(f"pooled vs cls      max |diff| {m.max_abs:.4f}  mean {m.mean_abs:.4f}  "
                 f"min cosine {m.min_cosine:.4f}   (the question's observation)")
    if c.rebuild is not None:
        m64, m32 = c.rebuild.pooled_vs_rebuilt, c.rebuild.pooled_vs_rebuilt32
        lines.append(f"pooled vs rebuilt  max |diff| {m64.max_abs:.2e}  mean {m64.mean_abs:.2e}  "
                     f"min cosine {m64.min_cosine:.7f}   (float64; float32: max {m32.max_abs:.2e})")
        lines.append(f"tolerance          per-element {c.precision} bound, largest {c.rebuild.tolerance_max:.2e}; "
                     f"worst element at {c.rebuild.worst_bound_ratio:.3g} of its bound"
                     f"{'' if r.full_float32 else ' (TF32 could not be turned off: the bound is wrong)'}")
    lines += structure_lines(c.structure)
    lines += interface_lines(r.interface_checks)
    lines += recovery_lines(r)
    lines.append(f"verdict            {c.verdict}: {words.reason(c)}")
    if c.verdict == comparison.MATCHES_POOLER:
        lines += ["", EXPLANATION.replace("`", "")]
    return "\n".join(lines)


def _pooler_line(pooler: PoolerWeights | None, quote: str = "`") -> str:
    if pooler is None:
        return "none found"
    return (f"{quote}{pooler.kernel_name}{quote} {list(pooler.kernel.shape)}, {quote}{pooler.bias_name}{quote} "
            f"{list(pooler.bias.shape)} ({pooler.scheme} naming, from the {pooler.source}; "
            f"checkpoint: {checkpoint_words(pooler.checkpoint)})")


def markdown(r: VerifyResult) -> str:
    """A short report to paste into an issue or a docs page."""
    c = r.comparison
    rows = [("pooled vs cls", c.pooled_vs_cls)]
    if c.rebuild is not None:
        rows.append(("pooled vs tanh(cls · W + b)", c.rebuild.pooled_vs_rebuilt))
    lines = [f"### Is `pooled_output` = tanh(cls · W + b)? **{c.verdict}**", "",
             f"- module: `{r.module.handle}` ({r.module.format}, `{r.module.signature}`, graph variant "
             f"{r.module.graph_variant}; vocab from {vocab_words(r.module.vocab_source, r.module.do_lower_case)})",
             f"- inputs: {r.tokenizer}, {count(len(r.texts), 'text')}",
             f"- pooler weights: {_pooler_line(r.pooler)}",
             *[f"- {line.split(maxsplit=1)[1]}" for line in interface_lines(r.interface_checks)
               + structure_lines(c.structure) + recovery_lines(r)], "",
             "| comparison | max abs diff | mean abs diff | min cosine |", "|---|---|---|---|"]
    lines += [f"| {name} | {m.max_abs:.3g} | {m.mean_abs:.3g} | {m.min_cosine:.7f} |" for name, m in rows]
    if c.rebuild is not None:
        lines += ["", f"Tolerance: per-element {c.precision} rounding bound, largest {c.rebuild.tolerance_max:.2e}; "
                      f"the worst element used {c.rebuild.worst_bound_ratio:.3g} of its bound."]
    lines += ["", f"Verdict: **{c.verdict}**: {words.reason(c)}", ""]
    if c.verdict == comparison.MATCHES_POOLER:
        lines.append(EXPLANATION)
    return "\n".join(lines)


def corpus_to_json(cr: CorpusResult) -> dict[str, Any]:
    st, sm = cr.stats, _summary(cr)
    rb = sm.rebuild
    return {
        "schema_version": SCHEMA_VERSION,
        "produced_by": produced_by(),
        "module": module_json(cr.module),
        "inputs": {"tokenizer": cr.tokenizer, "trimmed_to": cr.trimmed_to, "text_count": st.texts,
                   "padded_to": st.padded_to,
                   "texts_file": cr.texts_file, "tokens": st.tokens,
                   "padded_tokens": st.padded_tokens, "truncated": st.truncated},
        "pooler": pooler_json(cr.pooler),
        "pooler_search": cr.pooler_search,
        "metrics": {
            "pooled_vs_cls": sm.pooled_vs_cls.as_dict(),
            "pooled_vs_rebuilt": rb and rb.pooled_vs_rebuilt.as_dict(),
        },
        "tolerance": {"precision": sm.precision, "worst_ratio": rb and rb.worst_bound_ratio,
                      "elements_outside": rb and rb.elements_outside},
        "worst": [dataclasses.asdict(w) | {"text": texts.as_json(w.text)}
                  for w in st.worst],
        "batch_verdicts": st.verdicts,
        "interrupted": st.interrupted,
        "verdict": st.verdict,
        "structure": st.structure and st.structure.as_dict(),
        "findings": findings_json(sm),
        "first_mismatch_lines": list(st.first_mismatch) if st.first_mismatch else None,
        "reason": words.corpus_reason(sm, st.first_mismatch),
        "exit_code": st.exit_code,
    }


def _summary(cr: CorpusResult) -> comparison.Comparison:
    """The run's figures: a corpus run holds at least one batch (an empty file is an error)."""
    assert cr.stats.summary is not None, "a corpus run compares at least one batch"
    return cr.stats.summary


def corpus_terminal(cr: CorpusResult) -> str:
    st, sm = cr.stats, _summary(cr)
    lines = [f"Is pooled_output = tanh(cls · W + b), with cls = sequence_output[:, 0, :], over {cr.texts_file}?",
             f"module   {cr.module.handle}", *module_lines(cr.module),
             f"inputs   {cr.tokenizer}, trimmed to {cr.trimmed_to} tokens",
             *length_lines(cr.module, st.padded_to, None),
             f"pooler   {_pooler_line(cr.pooler, quote='')}",
             f"corpus   {cr.texts_file}: {count(st.texts, 'text')}, {count(st.tokens, 'token')} "
             f"({st.padded_tokens} with padding), {st.truncated} trimmed"
             + (f"; interrupted after {count(st.texts, 'text')}, the figures cover those" if st.interrupted else ""),
             f"pooled vs cls      max |diff| {sm.pooled_vs_cls.max_abs:.4f}  mean {sm.pooled_vs_cls.mean_abs:.4f}  "
             f"min cosine {sm.pooled_vs_cls.min_cosine:.4f}"]
    if sm.rebuild is not None:
        m = sm.rebuild.pooled_vs_rebuilt
        lines.append(f"pooled vs rebuilt  max |diff| {m.max_abs:.2e}  mean {m.mean_abs:.2e}"
                     f"  worst element at {sm.rebuild.worst_bound_ratio:.3g} of its bound, "
                     f"{sm.rebuild.elements_outside} outside")
        lines.append("worst texts (line, share of bound, max |pooled-rebuilt|, max |pooled-cls|):")
        lines += [f"  {w.line:>7}  {w.bound_ratio:.3g}  {w.max_abs_rebuilt:.2e}  {w.max_abs_cls:.3f}  "
                  f"{_short(texts.label(w.text), 60)}" for w in st.worst]
    lines += structure_lines(st.structure)
    lines.append(f"verdict            {st.verdict}: {words.corpus_reason(sm, st.first_mismatch)}")
    return "\n".join(lines)


def corpus_markdown(cr: CorpusResult) -> str:
    st, sm = cr.stats, _summary(cr)
    lines = [f"### Is `pooled_output` = tanh(cls · W + b) over `{cr.texts_file}`? **{st.verdict}**", "",
             f"- module: `{cr.module.handle}` ({cr.module.format}, `{cr.module.signature}`, graph "
             f"variant {cr.module.graph_variant}; vocab from "
             f"{vocab_words(cr.module.vocab_source, cr.module.do_lower_case)})",
             f"- inputs: {cr.tokenizer}; {count(st.texts, 'text')}, {count(st.tokens, 'token')}, {st.truncated} trimmed",
             f"- pooler weights: {_pooler_line(cr.pooler)}", "",
             "| comparison | max abs diff | mean abs diff |", "|---|---|---|",
             f"| pooled vs cls | {sm.pooled_vs_cls.max_abs:.3g} | {sm.pooled_vs_cls.mean_abs:.3g} |"]
    if sm.rebuild is not None:
        m = sm.rebuild.pooled_vs_rebuilt
        lines.append(f"| pooled vs tanh(cls · W + b) | {m.max_abs:.3g} | {m.mean_abs:.3g} |")
    bullets = [f"- {line.split(maxsplit=1)[1]}" for line in structure_lines(st.structure)]
    lines += ["", *bullets, *([""] if bullets else []),
              f"Verdict: **{st.verdict}**: {words.corpus_reason(sm, st.first_mismatch)}", ""]
    if st.verdict == comparison.MATCHES_POOLER:
        lines.append(EXPLANATION)
    return "\n".join(lines)


def save_arrays(r: VerifyResult, path: str) -> None:
    """Writes the npz whole or not at all (temp file beside it, then rename)."""
    arrays = {"input_ids": r.inputs.input_ids, "input_mask": r.inputs.input_mask,
              "segment_ids": r.inputs.segment_ids, "pooled_output": r.pooled_output,
              "sequence_output": r.sequence_output}
    if r.rebuilt is not None:
        arrays["rebuilt"] = r.rebuilt
    atomic.write_file(path, lambda f: np.savez(f, **arrays), "--save-arrays")


def zoo_row(e: ZooEntry) -> dict[str, Any]:
    """One module's line of a many-module run, in the shared vocabulary."""
    r = e.result
    if r is None:
        return {"handle": e.handle, "module": None, "pooler": None, "max_abs_pooled_vs_rebuilt": None,
                "worst_bound_ratio": None, "verdict": None, "error": str(e.error), "exit_code": e.exit_code}
    c, rb = r.comparison, r.comparison.rebuild
    return {"handle": e.handle, "module": module_json(r.module), "pooler": pooler_json(r.pooler),
            "max_abs_pooled_vs_rebuilt": rb and rb.pooled_vs_rebuilt.max_abs,
            "worst_bound_ratio": rb and rb.worst_bound_ratio, "verdict": c.verdict, "error": None,
            "exit_code": e.exit_code}


def zoo_to_json(entries: list[ZooEntry]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "produced_by": produced_by(),
            "modules": [zoo_row(e) for e in entries],
            "matching": zoo_matching(entries), "exit_code": zoo_exit_code(entries)}


def _zoo_cells(e: ZooEntry) -> list[str]:
    """One module's row of the terminal and Markdown tables, from its result or its error."""
    r = e.result
    if r is None:
        return [e.handle, "-", "-", "-", "-", f"error (exit {e.exit_code}): {e.error}"]
    rb = r.comparison.rebuild
    return [e.handle, r.module.format, r.pooler.kernel_name if r.pooler else "none",
            "-" if rb is None else f"{rb.pooled_vs_rebuilt.max_abs:.2e}",
            "-" if rb is None else f"{rb.worst_bound_ratio:.3g}", r.comparison.verdict]


ZOO_HEADER = ["module", "format", "pooler kernel", "max |pooled-rebuilt|", "worst/bound", "verdict"]


def zoo_matching(entries: list[ZooEntry]) -> int:
    return sum(e.exit_code == 0 for e in entries)


def zoo_terminal(entries: list[ZooEntry]) -> str:
    rows = [ZOO_HEADER] + [_zoo_cells(e) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(ZOO_HEADER) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]
    lines.append(f"{zoo_matching(entries)} of {len(entries)} modules: pooled_output = tanh(cls · W + b) "
                 f"with their stored pooler weights")
    return "\n".join(lines)


def _markdown_row(cells: list[str]) -> str:
    """A table row; a pipe inside a cell would end it (CommonMark tables)."""
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def zoo_markdown(entries: list[ZooEntry]) -> str:
    lines = [f"### Is `pooled_output` = tanh(cls · W + b)? {zoo_matching(entries)} of {len(entries)} modules match",
             "", _markdown_row(ZOO_HEADER), "|" + "---|" * len(ZOO_HEADER)]
    lines += [_markdown_row(_zoo_cells(e)) for e in entries]
    return "\n".join(lines)


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


@dataclasses.dataclass(frozen=True)
class Reporter:
    """One output kind: a renderer for a single run, a corpus run and a many-module run."""

    verify: Callable[[VerifyResult], str]
    corpus: Callable[[CorpusResult], str]
    zoo: Callable[[list[ZooEntry]], str]
    escape: bool          # texts users passed in are escaped for a terminal; JSON escapes them itself


REPORTERS = {
    "terminal": Reporter(terminal, corpus_terminal, zoo_terminal, True),
    "markdown": Reporter(markdown, corpus_markdown, zoo_markdown, True),
    "json": Reporter(lambda r: _json(to_json(r)), lambda cr: _json(corpus_to_json(cr)),
                     lambda es: _json(zoo_to_json(es)), False),
}
