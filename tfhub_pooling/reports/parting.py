"""A comparison of two models (study/parting.Parting) -> the terminal table, Markdown, JSON.

Renderers only render: every stage's status, figure, bound and finding comes from the
result; the sentences are made here.
"""

from __future__ import annotations

import json
from typing import Any

from tfhub_pooling.numerics import parting
from tfhub_pooling.numerics.parting import NOT_COMPARED, PARTS, Stage
from tfhub_pooling.reports import render
from tfhub_pooling.study.parting import Parting

STAGE_TITLES = {parting.TOKENIZER: "tokenizer", parting.ENCODER: "encoder",
                parting.POOLER_WEIGHTS: "pooler weights", parting.POOLER: "pooler"}
CAUSES = {"vocab": "the two vocabs differ", "casing": "one side lower-cases and the other does not",
          "accents": "one tokenizer strips accents and the other keeps them, so its vocab has no piece "
                     "for the accented word ([UNK])",
          "unknown-pieces": "one side gives [UNK] where the other has a piece"}


PRECISION_WORDS = {"float16": "float16", "bfloat16": "bfloat16", "int8": "dynamic-range int8"}


def _g(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def stage_words(s: Stage) -> str:
    """One stage's finding, in words."""
    f = s.findings
    if s.stage == parting.TOKENIZER:
        if s.status != PARTS:
            return f"identical ids on all {render.count(f['texts'], 'text')}"
        cause = CAUSES.get(f["likely_cause"] or "", "no plain cause")
        return (f"{f['texts_differing']} of {render.count(f['texts'], 'text')} differ; first text {f['first_text'] + 1}, "
                f"position {f['first_position']}: A {f['piece_a']!r} (id {f['id_a']}), B {f['piece_b']!r} "
                f"(id {f['id_b']}); likely cause: {cause}")
    if s.status == NOT_COMPARED:
        if "why" in f:
            return f"not compared: {f['why']}"
        return "not compared: neither side stores pooler weights"
    if s.stage == parting.ENCODER:
        words = f"sequence_output on A's ids, max |A - B| over real tokens; cls {_g(f['cls_max_abs_diff'])}"
        if f["precision"] != "float32":
            words += f"; held to {PRECISION_WORDS[f['precision']]} precision, as one side stores its weights"
        gelu = f.get("explained_by")
        if gelu:
            words += (f"; explained by the GELU form: side {gelu['side'].upper()} runs {gelu['runs']}, and run "
                      f"with {gelu['other']} it is {_g(gelu['max_abs_diff_with_other'])} from the other side")
        return words
    if s.stage == parting.POOLER_WEIGHTS:
        if "a_stores_pooler" in f:
            return (f"A {'stores' if f['a_stores_pooler'] else 'stores no'} pooler weights, "
                    f"B {'stores' if f['b_stores_pooler'] else 'stores none'}")
        if "shapes" in f:
            return f"shapes differ: A {f['shapes'][0]}, B {f['shapes'][1]}"
        within = f["elements_within_a_step"]
        rounded = (f"{within} elements differ by no more than a step of the storage one side rounds them to"
                   if within else "")
        if s.status != PARTS:
            return f"the same weights: {rounded}" if within else "identical, element by element"
        shown = ", ".join(f"W[{e['row']}, {e['col']}] {e['a']:.6g} vs {e['b']:.6g}"
                          for e in f["largest_kernel_differences"][:3])
        return (f"{f['kernel_elements_differing']} kernel and {f['bias_elements_differing']} bias elements differ"
                + (f"; largest: {shown}" if shown else "") + (f"; {rounded}" if within else ""))
    words = f"pooled_output on A's ids; verdicts: A {f['verdict_a']}, B {f['verdict_b']}"
    if f.get("elements_outside"):
        words += f"; {f['elements_outside']} elements beyond the bound |Δcls|·|W| + |cls|·|ΔW| + rounding"
    return words


def verdict_words(p: Parting) -> str:
    if p.agree:
        pooler = p.stage(parting.POOLER)
        precision = p.stage(parting.ENCODER).findings.get("precision", "float32")
        return (f"{p.verdict}: {parting.VERDICT_MEANINGS[p.verdict]}; pooled_output agrees within "
                f"{_g(pooler.max_abs)} (bound {_g(pooler.bound)})"
                + (f", in {PRECISION_WORDS[precision]} precision" if precision != "float32" else ""))
    return f"{p.verdict}: {parting.VERDICT_MEANINGS[p.verdict]}"


def terminal(p: Parting) -> str:
    lines = ["Where do the two models' pooled outputs part?"]
    for name, r in (("A", p.a), ("B", p.b)):
        lines.append(f"{name}  {r.module.handle} ({r.module.format}; its own verdict {r.verdict})")
    lines += ["", f"{'stage':<15} {'result':<13} {'max |A-B|':>10} {'bound':>10}  finding"]
    for s in p.stages:
        lines.append(f"{STAGE_TITLES[s.stage]:<15} {s.status:<13} {_g(s.max_abs):>10} {_g(s.bound):>10}  "
                     f"{stage_words(s)}")
    lines += ["", f"verdict  {verdict_words(p)}"]
    return "\n".join(lines)


def markdown(p: Parting) -> str:
    rows = "\n".join(f"| {STAGE_TITLES[s.stage]} | {s.status} | {_g(s.max_abs)} | {_g(s.bound)} | "
                     f"{stage_words(s).replace('|', '&#124;')} |" for s in p.stages)
    return (f"# Where do the two models' pooled outputs part?\n\n"
            f"- **A**: `{p.a.module.handle}` ({p.a.module.format}; its own verdict `{p.a.verdict}`)\n"
            f"- **B**: `{p.b.module.handle}` ({p.b.module.format}; its own verdict `{p.b.verdict}`)\n\n"
            f"| stage | result | max \\|A − B\\| | bound | finding |\n|---|---|---|---|---|\n{rows}\n\n"
            f"**Verdict**: {verdict_words(p)}\n")


def to_json(p: Parting) -> dict[str, Any]:
    return {"schema_version": render.SCHEMA_VERSION, "produced_by": render.produced_by(),
            "a": _side(p.a), "b": _side(p.b),
            "stages": [{"stage": s.stage, "status": s.status, "max_abs_diff": s.max_abs, "bound": s.bound,
                        "findings": s.findings} for s in p.stages],
            "verdict": p.verdict, "exit_code": p.exit_code}


def _side(r: Any) -> dict[str, Any]:
    return {"module": render.module_json(r.module), "tokenizer": r.tokenizer, "pooler": render.pooler_json(r.pooler),
            "verdict": r.verdict}


REPORTERS = {"terminal": terminal, "markdown": markdown,
             "json": lambda p: json.dumps(to_json(p), indent=2, ensure_ascii=False, allow_nan=False)}
