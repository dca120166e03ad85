"""Two models, A and B, stage by stage: where their pooled outputs part.

Each side has been studied on its own (pipeline.verify: its own tokenizer, outputs,
stored pooler and verdict). Here the sides meet: their ids for the same texts, B run
on A's ids beside A's outputs, their stored weights side by side, their pooled
outputs. The numbers are numerics/parting.py's; where the encoders part and a side
is run by keras_hub (a Hugging Face checkpoint or a KerasHub preset), that side is run
again with the other GELU form, so that a difference the GELU form explains is shown
to be explained, not guessed.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

import numpy as np

from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import StudyError
from tfhub_pooling.formats import HF_CHECKPOINT, KERAS_HUB
from tfhub_pooling.numerics import parting
from tfhub_pooling.numerics.parting import NOT_COMPARED, PARTS, Stage
from tfhub_pooling.study import forward, hf_checkpoint, keras_hub_loading
from tfhub_pooling.study.loading import LoadedModule, least_precise
from tfhub_pooling.study.results import VerifyResult

# The GELU forms transformers names, each with its other form.
OTHER_GELU = {"gelu": "gelu_new", "gelu_python": "gelu_new", "gelu_new": "gelu", "gelu_pytorch_tanh": "gelu",
              "gelu_fast": "gelu"}
KERAS_HUB_GELU = "gelu_new"     # BertBackbone and AlbertBackbone compute the tanh form


@dataclasses.dataclass(frozen=True, kw_only=True)
class Parting:
    """Where A and B part: each side's own study, the stages, and the verdict."""

    a: VerifyResult
    b: VerifyResult
    stages: tuple[Stage, ...]

    @property
    def verdict(self) -> str:
        return parting.verdict(self.stages)

    @property
    def exit_code(self) -> int:
        return parting.VERDICT_EXIT_CODES[self.verdict]

    @property
    def agree(self) -> bool:
        return self.verdict == parting.AGREE

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.stage == name)


def compare(ra: VerifyResult, rb: VerifyResult, ma: LoadedModule, mb: LoadedModule) -> Parting:
    """ra, rb: each side studied on the same texts; ma, mb: their loaded modules."""
    pieces = _pieces(ra), _pieces(rb)           # read once: a vocab is up to 250k lines
    wa, wb = _as_computed(ra), _as_computed(rb)
    same_vocab = pieces[0] is not None and pieces[0] == pieces[1]
    tokenizer = _tokenizer(ra, rb, pieces, same_vocab)
    if tokenizer.status == PARTS and not same_vocab:
        why = {"why": "the two vocabs differ, so no ids mean the same to both"}
        rest = (Stage(parting.ENCODER, NOT_COMPARED, findings=why),
                _weights(wa, wb),
                Stage(parting.POOLER, NOT_COMPARED, findings=why | {"verdict_a": ra.verdict, "verdict_b": rb.verdict}))
        return Parting(a=ra, b=rb, stages=(tokenizer, *rest))
    b_on_a = forward.run(mb, ra.inputs)
    encoder = _encoder(ra, b_on_a, ma, mb)
    pa, pb = wa, wb
    if pa is None or pb is None or pa.kernel.shape != pb.kernel.shape:   # one side's weights for both
        pa = pb = pa or pb
    pooler = parting.pooler(ra.pooled_output, b_on_a.pooled_output, ra.cls, b_on_a.cls, pa, pb,
                            ra.verdict, rb.verdict)
    return Parting(a=ra, b=rb, stages=(tokenizer, encoder, _weights(wa, wb), pooler))


def _as_computed(r: VerifyResult) -> parting.Weights | None:
    """A side's stored pooler as numerics/parting.py takes it; None where it stores none."""
    p = r.pooler
    if p is None:
        return None
    steps = (0.0 if p.step is None else p.step, 0.0 if p.bias_step is None else p.bias_step)
    return parting.Weights(np.asarray(p.kernel), np.asarray(p.bias), r.comparison.precision, steps)


def _ids(r: VerifyResult) -> list[list[int]]:
    return [r.inputs.input_ids[i, : r.inputs.token_counts[i]].tolist() for i in range(len(r.texts))]


def _pieces(r: VerifyResult) -> list[str] | None:
    return vocabs.pieces(vocabs.read(r.module.vocab_file)) if r.module.vocab_file else None


def _tokenizer(ra: VerifyResult, rb: VerifyResult, pieces: tuple[list[str] | None, list[str] | None],
               same_vocab: bool) -> Stage:
    ids_a, ids_b = _ids(ra), _ids(rb)
    differing = sum(a != b for a, b in zip(ids_a, ids_b, strict=True))
    first = parting.first_difference(ids_a, ids_b)
    findings: dict[str, Any] = {"texts": len(ids_a), "texts_differing": differing, "same_vocab": same_vocab,
                                "tokenizer_a": ra.tokenizer, "tokenizer_b": rb.tokenizer}
    if first is None:
        return Stage(parting.TOKENIZER, parting.AGREES, 0.0, 0.0, findings)
    t, p = first
    piece_a, piece_b = (_piece(side, ids, t, p) for side, ids in zip(pieces, (ids_a, ids_b), strict=True))
    findings |= {"first_text": t, "first_position": p, "piece_a": piece_a, "piece_b": piece_b,
                 "id_a": _at(ids_a, t, p), "id_b": _at(ids_b, t, p),
                 "likely_cause": _cause(ra.texts[t], piece_a, piece_b, ra, rb, same_vocab)}
    return Stage(parting.TOKENIZER, PARTS, None, None, findings)


def _at(ids: list[list[int]], t: int, p: int) -> int | None:
    return ids[t][p] if p < len(ids[t]) else None


def _piece(pieces: list[str] | None, ids: list[list[int]], t: int, p: int) -> str | None:
    i = _at(ids, t, p)
    return pieces[i] if i is not None and pieces is not None and 0 <= i < len(pieces) else None


def _cause(text: Any, piece_a: str | None, piece_b: str | None, ra: VerifyResult, rb: VerifyResult,
           same_vocab: bool) -> str | None:
    """The likely cause, where one is plain: a different vocab, casing, accents, unknown pieces."""
    if not same_vocab:
        return "vocab"
    if ra.module.do_lower_case != rb.module.do_lower_case or (
            piece_a and piece_b and piece_a != piece_b and piece_a.lower() == piece_b.lower()):
        return "casing"
    unknown = "[UNK]" in (piece_a, piece_b)
    whole = " ".join(text) if isinstance(text, tuple) else text
    if unknown and any(unicodedata.category(c) == "Mn" for c in unicodedata.normalize("NFD", whole)):
        return "accents"
    return "unknown-pieces" if unknown else None


def _encoder(ra: VerifyResult, b_on_a: forward.Outputs, ma: LoadedModule, mb: LoadedModule) -> Stage:
    layers = max(n for n in (ma.facts.num_layers, mb.facts.num_layers, 1) if n is not None)
    precision = least_precise((ma.facts.weights_dtype, mb.facts.weights_dtype))
    stage = parting.encoder(ra.sequence_output, b_on_a.sequence_output, ra.inputs.input_mask, layers, precision)
    if stage.status != PARTS:
        return stage
    explained = _gelu_explains(ra, b_on_a, ma, mb, layers, precision)
    return dataclasses.replace(stage, findings=stage.findings | ({"explained_by": explained} if explained else {}))


def _gelu_explains(ra: VerifyResult, b_on_a: forward.Outputs, ma: LoadedModule, mb: LoadedModule,
                   layers: int, precision: str) -> dict[str, Any] | None:
    """Runs each side keras_hub runs again with the other GELU form, on A's ids: where that
    brings the encoders within tolerance, the GELU form explains the difference."""
    for side, module in (("b", mb), ("a", ma)):
        flipped = _other_gelu(module)
        if flipped is None:
            continue
        variant, ran, other = flipped
        out = forward.run(variant, ra.inputs)
        mine, theirs = (out.sequence_output, ra.sequence_output) if side == "a" else \
            (ra.sequence_output, out.sequence_output)
        again = parting.encoder(mine, theirs, ra.inputs.input_mask, layers, precision)
        if again.status == parting.AGREES:
            return {"cause": "gelu-form", "side": side, "runs": ran, "other": other,
                    "max_abs_diff_with_other": again.max_abs}
    return None


def _other_gelu(module: LoadedModule) -> tuple[LoadedModule, str, str] | None:
    """The module loaded again with the other GELU form: (module, the form it runs, the other)."""
    try:
        if module.facts.format == HF_CHECKPOINT:
            ran = hf_checkpoint.read_config(module.facts.path).get("hidden_act", "gelu")
            if ran not in OTHER_GELU:
                return None
            return hf_checkpoint.load(module.facts.handle, module.facts.path, OTHER_GELU[ran]), ran, OTHER_GELU[ran]
        if module.facts.format == KERAS_HUB:
            variant = keras_hub_loading.load(module.facts.handle, module.facts.path)
            hf_checkpoint.set_activation(variant.obj, OTHER_GELU[KERAS_HUB_GELU])
            return variant, KERAS_HUB_GELU, OTHER_GELU[KERAS_HUB_GELU]
    except StudyError:
        return None
    return None


def _weights(wa: parting.Weights | None, wb: parting.Weights | None) -> Stage:
    if wa is None or wb is None:
        stores = {"a_stores_pooler": wa is not None, "b_stores_pooler": wb is not None}
        return Stage(parting.POOLER_WEIGHTS, NOT_COMPARED if wa is None and wb is None else PARTS, findings=stores)
    return parting.pooler_weights(wa, wb)
