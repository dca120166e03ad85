"""The study, end to end, on a loaded module: encoder inputs -> outputs -> pooler
weights -> comparison -> a result (results.py). It builds nothing: tfhub_pooling.api
provisions the module (provision.py) and calls in here with it and its Options."""

from __future__ import annotations

import time
from typing import BinaryIO

from tfhub_pooling.conventions import vocabs
from tfhub_pooling.numerics import bounds, comparison, recovery, structure
from tfhub_pooling.study import (
    batches,
    corpus,
    forward,
    interface,
    loading,
    stored_pooler,
    text_sources,
)
from tfhub_pooling.study.encoder_inputs import Inputs, concat
from tfhub_pooling.study.input_source import batches_of, prepare, run_texts, words_from
from tfhub_pooling.study.options import Options
from tfhub_pooling.study.results import CorpusResult, VerifyResult

# Black-box recovery fits on twice the unknowns per column, then checks on held-out texts.
RECOVERY_FIT_FACTOR = 2
RECOVERY_HELD_OUT = 64


def recover(module: loading.LoadedModule, source: Inputs, hidden: int,
            max_seq_length: int, pooler: stored_pooler.PoolerWeights | None,
            seed: int = 0) -> recovery.Recovery:
    """Fits pooled = tanh(cls · W + b) on generated texts, from outputs alone."""
    n_fit = RECOVERY_FIT_FACTOR * (hidden + 1)
    texts = vocabs.generate_texts(n_fit + RECOVERY_HELD_OUT, words_from(module, source), seed)
    out = run_texts(module, source, texts, max_seq_length)
    cls, pooled = out.cls, out.pooled_output
    return recovery.recover(cls[:n_fit], pooled[:n_fit], cls[n_fit:], pooled[n_fit:],
                            pooler.kernel if pooler else None, pooler.bias if pooler else None)


def run_structure_test(module: loading.LoadedModule, source: Inputs, out: forward.Outputs,
                       pooler: stored_pooler.PoolerWeights, max_seq_length: int,
                       batch_size: int, seed: int = 0) -> structure.Structure:
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


def verify(module: loading.LoadedModule, options: Options) -> VerifyResult:
    """The study on a loaded module and the texts of `options`; tfhub_pooling.api.verify
    documents it."""
    full_float32 = forward.full_float32()
    texts = options.text_list
    module, source, max_seq_length = prepare(module, options)
    batch_size = options.batch_size
    recovery_seconds = None
    pooler, search = module.pooler()
    with bounds.quiet_blas():
        ran = list(batches.compared(module, pooler, batches_of(source, texts, max_seq_length, batch_size)))
        inputs = concat([b.inputs for b in ran])
        out = forward.concat([b.outputs for b in ran])
        shape = None
        if options.structure_test and pooler is not None:
            shape = run_structure_test(module, source, out, pooler, max_seq_length, batch_size)
        result = comparison.merge([b.comparison for b in ran],
                                  interface.problems(out.checks, module.encoder_outputs), shape)
        if result.needs_fit and options.recover_weights:
            start = time.perf_counter()
            fit = recover(module, source, out.pooled_output.shape[1], max_seq_length, pooler)
            recovery_seconds = time.perf_counter() - start
            result = comparison.conclude(result, fit)
    return VerifyResult(
        module=module.facts, tokenizer=source.describe(), trimmed_to=max_seq_length, texts=texts,
        inputs=inputs, pooled_output=out.pooled_output, sequence_output=out.sequence_output,
        pooler=pooler, pooler_search=search, comparison=result,
        interface_checks=interface.report(out.checks, module.encoder_outputs),
        full_float32=full_float32, padded_to=out.ran_at, recovery_seconds=recovery_seconds)


def verify_corpus(module: loading.LoadedModule, options: Options, opened: BinaryIO) -> CorpusResult:
    """The study streamed over options.texts_file, which `opened` reads (text_sources.open_texts);
    tfhub_pooling.api.verify_corpus documents it."""
    from tqdm import tqdm

    assert options.texts_file is not None, "corpus mode reads a texts file"
    forward.full_float32()
    module, source, max_seq_length = prepare(module, options)
    pooler, search = module.pooler()
    texts = text_sources.iter_texts_file(options.texts_file, opened)
    with tqdm(total=text_sources.count_lines(options.texts_file), unit="text", disable=not options.progress,
              leave=False) as bar:
        stats = corpus.run_corpus(module, source, texts, max_seq_length, pooler, options.batch_size, bar,
                                  options.structure_test)
    return CorpusResult(module=module.facts, tokenizer=source.describe(), trimmed_to=max_seq_length,
                        texts_file=options.texts_file, pooler=pooler, pooler_search=search, stats=stats)
