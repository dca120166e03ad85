"""The study, end to end, on a loaded module: encoder inputs -> outputs -> pooler
weights -> comparison. It builds nothing: tfhub_pooling.api provisions the module
(provision.py) and calls in here with it."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import numpy as np

from tfhub_pooling import defaults
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import (
    EXIT_NOT_ALL_MATCH,
    InterfaceError,
    StudyError,
    UsageError,
)
from tfhub_pooling.formats import PREPROCESS
from tfhub_pooling.numerics import bounds, comparison, recovery, structure
from tfhub_pooling.study import (
    batches,
    corpus,
    forward,
    handles,
    interface,
    keras_hub_loading,
    loading,
    stored_pooler,
    stored_variables,
    text_sources,
)
from tfhub_pooling.study.encoder_inputs import (
    EncoderInputs,
    PreprocessingModel,
    Tokenizer,
    concat,
)
from tfhub_pooling.study.texts import Text, check_lengths, check_texts

# Our own tokenizer, or the module's preprocessing model: both `encode(texts, max_seq_length)`.
InputSource = Tokenizer | PreprocessingModel

# The question's own sentence first, then a few more and one sentence pair.
DEFAULT_TEXTS: tuple[Text, ...] = (
    "I am using BERT in Tensorflow and there is one detail I dont quite understand.",
    "pooled_output[0] is different from sequence_output[0, 0, :].",
    "The quick brown fox jumps over the lazy dog.",
    "Hello!",
    ("Why does the pooled output differ from the [CLS] vector?",
     "It is the [CLS] vector passed through one more dense layer and tanh."),
)
# Black-box recovery fits on twice the unknowns per column, then checks on held-out texts.
RECOVERY_FIT_FACTOR = 2
RECOVERY_HELD_OUT = 64


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


def load_preprocessor(handle: str) -> PreprocessingModel:
    path = handles.resolve(handle)
    obj = loading.load_saved_model(path)
    if loading.detect_format(path, obj) != PREPROCESS:
        raise InterfaceError(f"{handle} is no BERT preprocessing model (it lacks tokenize and "
                             "bert_pack_inputs)")
    return PreprocessingModel(handle, obj, loading.preprocess_vocab(path, obj)[0])


def check_inputs_options(preprocess: str | None, vocab: str | None, lower_case: bool | None) -> None:
    """What makes the inputs is one thing: a preprocessing model, or a vocab and casing."""
    if preprocess is not None and (vocab is not None or lower_case is not None):
        raise UsageError("--preprocess makes the inputs with the preprocessing model's own vocab and casing; "
                         "leave out --vocab and --lower-case")


def check_arguments(texts: Sequence[Text] | None, max_seq_length: int | None, batch_size: int,
                    preprocess: str | None, vocab: str | None, lower_case: bool | None) -> list[Text]:
    """The checks verify() makes of its arguments, cheap, so a caller makes them before loading."""
    texts = check_texts(texts if texts is not None else DEFAULT_TEXTS)
    check_lengths(max_seq_length, texts)
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, not {batch_size}")
    check_inputs_options(preprocess, vocab, lower_case)
    return texts


def prepare(module: loading.LoadedModule, preprocess: str | None, max_seq_length: int | None,
            vocab: str | None = None, lower_case: bool | None = None,
            ) -> tuple[loading.LoadedModule, InputSource, int]:
    """The module, what makes its inputs, and the length to trim to.

    vocab, lower_case: the vocab file and casing the user named, for an encoder that
    carries none (a Hugging Face SavedModel named by itself) or to override its own
    (check_inputs_options has held them to preprocess).
    """
    if vocab is not None or lower_case is not None:
        module = named_vocab(module, vocab, lower_case)
    if preprocess is None:
        if module.vocab_file is None:
            raise InterfaceError(f"{module.path} carries no vocab_file / do_lower_case or sp_model_file, "
                                 "so its vocab is unknown; pass its vocab with --vocab, or its preprocessing "
                                 "model with --preprocess")
        source: InputSource
        if module.tokenizer is not None:    # a KerasHub preset: its own tokenizer makes the word pieces
            source = Tokenizer(module.vocab_file, module.do_lower_case,
                               word_pieces=keras_hub_loading.word_pieces(module.tokenizer),
                               name=f"the preset's own KerasHub {type(module.tokenizer).__name__}")
        else:
            source = Tokenizer(module.vocab_file, module.do_lower_case,
                               owner="the --vocab file" if vocab is not None else "the module's")
        if module.vocab_rows is not None and source.vocab.size > module.vocab_rows:
            raise InterfaceError(f"vocab {module.vocab_file} has {source.vocab.size} entries, and the module's "
                                 f"word-embedding table has {module.vocab_rows} rows; the vocab is not this "
                                 "module's, or one of the two is damaged")
    else:
        source = load_preprocessor(preprocess)
        max_seq_length = max_seq_length or defaults.PREPROCESS_SEQ_LENGTH
    return module, source, min(max_seq_length or module.max_seq_length, module.max_seq_length)


def named_vocab(module: loading.LoadedModule, vocab: str | None, lower_case: bool | None
                ) -> loading.LoadedModule:
    """The module with the vocab file and casing the user named (--vocab, --lower-case).
    Without an explicit casing, the tokenizer_config.json beside the vocab file says it."""
    if module.tokenizer is not None:
        raise UsageError(f"{module.handle} is a KerasHub preset, which tokenizes with its own tokenizer; "
                         "leave out --vocab and --lower-case")
    if vocab is not None and not os.path.isfile(vocab):
        raise UsageError(f"--vocab {vocab} is not a file; pass the vocab.txt the model was trained with")
    vocab_file = vocab if vocab is not None else module.vocab_file
    if vocab_file is None:
        raise UsageError(f"{module.path} carries no vocab, so --lower-case has none to apply to; pass --vocab too")
    casing_from = "option"
    if lower_case is None:
        lower_case = loading.tokenizer_casing(os.path.dirname(os.path.abspath(vocab_file)))
        casing_from = "tokenizer-config"
    place = loading.NAMED_VOCAB if vocab is not None else module.vocab_source
    return dataclasses.replace(module, vocab_file=vocab_file, do_lower_case=lower_case,
                               vocab_source=dataclasses.replace(place, casing_from=casing_from))


def find_pooler(module: loading.LoadedModule) -> tuple[stored_pooler.PoolerWeights | None, str | None]:
    """The stored pooler, or None and what was searched. Found once,
    before any batch runs; each batch's outputs are then held to its width
    (stored_pooler.check_width)."""
    try:
        if module.stored is not None:
            return stored_pooler.find_in_file(module.stored), None
        return stored_pooler.find_module_pooler(module.variables, module.path), None
    except stored_pooler.PoolerNotFound as e:
        if module.stored is not None and module.stored.source == stored_variables.SAFETENSORS_SOURCE:
            return None, (f"{e}. transformers draws such a pooler at random on every load (\"newly initialized: "
                          "pooler.dense\"), so its pooler_output is no property of the model; the pooled_output "
                          "here is keras_hub's own random draw")
        return None, str(e)


def batches_of(source: InputSource, texts: Sequence[Text], max_seq_length: int,
               batch_size: int = defaults.BATCH_SIZE) -> Iterator[tuple[np.ndarray, EncoderInputs]]:
    """(rows, inputs) batches of texts packed together, so rows are padded to the longest
    text of all batches."""
    packed = source.pack(texts, max_seq_length)
    for i in range(0, len(texts), batch_size):
        rows = np.arange(i, min(i + batch_size, len(texts)))
        yield rows, packed.batch(rows)


def run_texts(module: loading.LoadedModule, source: InputSource, texts: Sequence[Text],
              max_seq_length: int, batch_size: int = defaults.BATCH_SIZE) -> forward.Outputs:
    """The outputs of generated texts, which only the structure test and the fit use."""
    ran = forward.run_many(module, batches_of(source, texts, max_seq_length, batch_size))
    return forward.concat([out for _, _, out in ran])


def words_from(module: loading.LoadedModule, source: InputSource) -> str:
    """The vocab file whose words the generated texts are made of."""
    vocab_file = module.vocab_file or source.vocab_file
    if vocab_file is None:
        raise InterfaceError(f"neither {module.path} nor its preprocessing model carries a vocab file to make "
                             "texts of for the structure test and the diagnosis; pass --vocab, or "
                             "--no-structure and --no-recover")
    return vocab_file


def recover(module: loading.LoadedModule, source: InputSource, hidden: int,
            max_seq_length: int, pooler: stored_pooler.PoolerWeights | None,
            seed: int = 0) -> recovery.Recovery:
    """Fits pooled = tanh(cls · W + b) on generated texts, from outputs alone."""
    n_fit = RECOVERY_FIT_FACTOR * (hidden + 1)
    texts = vocabs.generate_texts(n_fit + RECOVERY_HELD_OUT, words_from(module, source), seed)
    out = run_texts(module, source, texts, max_seq_length)
    cls, pooled = out.cls, out.pooled_output
    return recovery.recover(cls[:n_fit], pooled[:n_fit], cls[n_fit:], pooled[n_fit:],
                            pooler.kernel if pooler else None, pooler.bias if pooler else None)


def run_structure_test(module: loading.LoadedModule, source: InputSource, out: forward.Outputs,
                       pooler: stored_pooler.PoolerWeights, max_seq_length: int,
                       batch_size: int = defaults.BATCH_SIZE, seed: int = 0) -> structure.Structure:
    """The residual-structure test on the study's outputs and enough generated texts to
    reach structure.TEXTS: short ones, so the forward pass costs little. Where that look is
    suspicious, a second one on structure.FOLLOW_UP_TEXTS texts decides."""
    sums = structure.ResidualSums(pooler.kernel, pooler.bias, pooler.arithmetic)
    sums.add(out.pooled_output, out.cls)

    def add_texts_up_to(total: int, seed: int) -> None:
        more = total - sums.n
        if more > 0:
            texts = vocabs.generate_texts(more, words_from(module, source), seed, max_words=structure.WORDS)
            extra = run_texts(module, source, texts, max_seq_length, batch_size)
            sums.add(extra.pooled_output, extra.cls)

    add_texts_up_to(structure.TEXTS, seed)
    first = sums.result()
    if not first.suspicious:
        return first
    add_texts_up_to(structure.FOLLOW_UP_TEXTS, seed + 1)
    return sums.result(looks=2)


def verify(module: loading.LoadedModule, texts: list[Text], max_seq_length: int | None = None,
           recover_weights: bool = True, batch_size: int = defaults.BATCH_SIZE, preprocess: str | None = None,
           structure_test: bool = True, vocab: str | None = None,
           lower_case: bool | None = None) -> VerifyResult:
    """The study on a loaded module, with the arguments check_arguments returned or passed;
    tfhub_pooling.api.verify documents them."""
    full_float32 = forward.full_float32()
    module, source, max_seq_length = prepare(module, preprocess, max_seq_length, vocab, lower_case)
    recovery_seconds = None
    pooler, search = find_pooler(module)
    with bounds.quiet_blas():
        ran = list(batches.compared(module, pooler, batches_of(source, texts, max_seq_length, batch_size)))
        inputs = concat([b.inputs for b in ran])
        out = forward.concat([b.outputs for b in ran])
        shape = None
        if structure_test and pooler is not None:
            shape = run_structure_test(module, source, out, pooler, max_seq_length, batch_size)
        result = comparison.merge([b.comparison for b in ran],
                                  interface.problems(out.checks, module.encoder_outputs), shape)
        if result.needs_fit and recover_weights:
            start = time.perf_counter()
            fit = recover(module, source, out.pooled_output.shape[1], max_seq_length, pooler)
            recovery_seconds = time.perf_counter() - start
            result = comparison.conclude(result, fit)
    return VerifyResult(
        module=loading.facts(module), tokenizer=source.describe(), trimmed_to=max_seq_length, texts=texts,
        inputs=inputs, pooled_output=out.pooled_output, sequence_output=out.sequence_output,
        pooler=pooler, pooler_search=search, comparison=result,
        interface_checks=interface.report(out.checks, module.encoder_outputs),
        full_float32=full_float32, padded_to=out.ran_at, recovery_seconds=recovery_seconds)


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


def verify_corpus(module: loading.LoadedModule, texts_file: str, opened: BinaryIO,
                  max_seq_length: int | None = None, preprocess: str | None = None,
                  batch_size: int = defaults.BATCH_SIZE, progress: bool = False,
                  structure_test: bool = True, vocab: str | None = None,
                  lower_case: bool | None = None) -> CorpusResult:
    """The study streamed over a texts file that `opened` reads (text_sources.open_texts),
    with arguments tfhub_pooling.api.verify_corpus has checked and documents."""
    from tqdm import tqdm

    forward.full_float32()
    module, source, max_seq_length = prepare(module, preprocess, max_seq_length, vocab, lower_case)
    pooler, search = find_pooler(module)
    texts = text_sources.iter_texts_file(texts_file, opened)
    with tqdm(total=text_sources.count_lines(texts_file), unit="text", disable=not progress,
              leave=False) as bar:
        stats = corpus.run_corpus(module, source, texts, max_seq_length, pooler, batch_size, bar,
                                  structure_test)
    return CorpusResult(module=loading.facts(module), tokenizer=source.describe(), trimmed_to=max_seq_length,
                        texts_file=texts_file, pooler=pooler, pooler_search=search, stats=stats)


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
    return 0 if all(e.exit_code == 0 for e in entries) else EXIT_NOT_ALL_MATCH
