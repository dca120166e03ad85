"""What a study concludes, the same shapes for every report: verify's result (the outputs
and the comparison), corpus mode's (running statistics), a many-module run's rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tfhub_pooling.errors import EXIT_NOT_ALL_MATCH, EXIT_OK, StudyError
from tfhub_pooling.numerics import comparison
from tfhub_pooling.study import corpus, loading, stored_pooler
from tfhub_pooling.study.encoder_inputs import EncoderInputs
from tfhub_pooling.study.texts import Text


@dataclasses.dataclass(kw_only=True)
class Studied:
    """What a run studied, the same for verify and corpus mode: the module, how its
    inputs were made, and its pooler."""

    module: loading.ModuleFacts
    tokenizer: str                     # what made the encoder inputs
    trimmed_to: int                    # texts were trimmed to this many tokens
    pooler: stored_pooler.PoolerWeights | None
    pooler_search: str | None          # what was searched, where no pooler weights were found


@dataclasses.dataclass(kw_only=True)
class VerifyResult(Studied):
    """Everything the study saw and concluded; arrays are numpy, B texts, S tokens, H hidden."""

    texts: list[Text]
    inputs: EncoderInputs              # input_ids, input_mask, segment_ids [B, S]
    pooled_output: np.ndarray          # [B, H]
    sequence_output: np.ndarray        # [B, S, H]
    comparison: comparison.Comparison
    interface_checks: dict | None      # Model Garden's export checks, tf2-dict modules only
    full_float32: bool                 # float32 matmuls ran in full float32 (TF32 off)
    padded_to: int | None              # batches ran padded to this length, where the module takes only some
    recovery_seconds: float | None     # what the black-box fit cost, where a mismatch called for it

    @property
    def shortened_to(self) -> int | None:
        """Rows of sequence_output, where the encoder shortens its sequence (Funnel)."""
        rows = self.sequence_output.shape[1]
        return rows if rows < self.inputs.input_ids.shape[1] else None

    @property
    def cls(self) -> np.ndarray:
        """The final-layer [CLS] vector, sequence_output[:, 0, :] -> [B, H]."""
        return self.sequence_output[:, 0, :]

    @property
    def rebuilt(self) -> np.ndarray | None:
        """tanh(cls · W + b) in float64 [B, H]; None without pooler weights."""
        return self.comparison.rebuild.rebuilt if self.comparison.rebuild else None

    @property
    def verdict(self) -> str:
        return self.comparison.verdict

    @property
    def ok(self) -> bool:
        return self.verdict == comparison.MATCHES_POOLER

    @property
    def exit_code(self) -> int:
        return self.comparison.exit_code


@dataclasses.dataclass(kw_only=True)
class CorpusResult(Studied):
    """The study over a texts file: running statistics, never the outputs."""

    texts_file: str
    stats: corpus.CorpusStats

    @property
    def verdict(self) -> str:
        return self.stats.verdict

    @property
    def exit_code(self) -> int:
        return self.stats.exit_code


@dataclasses.dataclass
class ZooEntry:
    """One module of a many-module run: its result, or the error that stopped it."""

    handle: str
    result: VerifyResult | None
    error: StudyError | None

    @property
    def exit_code(self) -> int:
        if self.result is not None:
            return self.result.exit_code
        assert self.error is not None, "a zoo entry holds a result or an error"
        return self.error.exit_code


def zoo_exit_code(entries: Sequence[ZooEntry]) -> int:
    """0 only when every module matches."""
    return EXIT_OK if all(e.exit_code == EXIT_OK for e in entries) else EXIT_NOT_ALL_MATCH
