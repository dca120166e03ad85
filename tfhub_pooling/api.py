"""The Python API, and what the CLI calls: a handle is provisioned first
(provision.py: resolved through tensorflow_hub; the embedded default or a
google-research checkpoint built into a module), then studied (study/pipeline.py),
which builds nothing. Every argument the CLI checks is checked here too, by the one
Options (study/options.py), before any module is loaded.

    from tfhub_pooling import verify
    result = verify()              # the embedded default module
    result.verdict, result.comparison.rebuild.pooled_vs_rebuilt.max_abs
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tfhub_pooling import defaults, provision, sides
from tfhub_pooling.errors import StudyError, UsageError
from tfhub_pooling.sides import Side
from tfhub_pooling.study import parting, pipeline, text_sources
from tfhub_pooling.study.loading import LoadedModule
from tfhub_pooling.study.options import DEFAULT_TEXTS, Options, merged
from tfhub_pooling.study.parting import Parting
from tfhub_pooling.study.results import CorpusResult, VerifyResult, ZooEntry
from tfhub_pooling.study.texts import Text

load = provision.load


def verify(handle: str | None = None, texts: Sequence[Text] | None = None,
           max_seq_length: int | None = None, module: LoadedModule | None = None,
           recover_weights: bool = True, batch_size: int = defaults.BATCH_SIZE,
           preprocess: str | None = None, structure_test: bool = True,
           vocab: str | None = None, lower_case: bool | None = None, *,
           options: Options | None = None) -> VerifyResult:
    """Shows whether pooled_output is tanh(cls · W + b) with the module's stored W, b.

    handle: URL, module directory or archive; None for the embedded default.
    module: an already loaded module (load()), to skip loading (handle is then ignored).
    options: how the study runs (study/options.Options, which documents each); or the same
      as keyword arguments: texts (None for options.DEFAULT_TEXTS), max_seq_length,
      recover_weights (on a mismatch no look-alike explains, fit W and b from outputs on
      2(H+1) generated texts, to tell POOLER_WEIGHTS_DIFFER from UNEXPLAINED; its cost
      falls only on failures), batch_size, preprocess, structure_test, vocab, lower_case.
    """
    opts = merged(options, texts=texts, max_seq_length=max_seq_length, recover_weights=recover_weights,
                  batch_size=batch_size, preprocess=preprocess, structure_test=structure_test, vocab=vocab,
                  lower_case=lower_case)
    if opts.texts_file is not None:
        raise UsageError("options name a texts file: that is verify_corpus()")
    return pipeline.verify(module or load(handle), opts)


def verify_corpus(texts_file: str | None = None, handle: str | None = None, max_seq_length: int | None = None,
                  module: LoadedModule | None = None, preprocess: str | None = None,
                  batch_size: int = defaults.BATCH_SIZE, progress: bool = False,
                  structure_test: bool = True, vocab: str | None = None,
                  lower_case: bool | None = None, *, options: Options | None = None) -> CorpusResult:
    """verify() over a texts file (one text a line, a tab splits a pair; "-" for standard
    input), streamed: running statistics and the worst texts, never the outputs.

    The file is opened before the module is loaded, so a named pipe waits for its
    writer first, and a missing file is said before a minute of loading.
    progress: show a tqdm bar (its total is the file's line count).
    structure_test: run the residual-structure test over every text of the file.
    Other arguments as for verify(); options= holds them all, texts_file too.
    """
    opts = merged(options, texts_file=texts_file, max_seq_length=max_seq_length, preprocess=preprocess,
                  batch_size=batch_size, progress=progress, structure_test=structure_test, vocab=vocab,
                  lower_case=lower_case)
    if opts.texts_file is None:
        raise UsageError("verify_corpus() needs a texts file")
    opened = text_sources.open_texts(opts.texts_file)
    return pipeline.verify_corpus(module or load(handle), opts, opened)


def verify_many(handles: Sequence[str], *, options: Options | None = None, **verify_kwargs: Any) -> list[ZooEntry]:
    """verify() on each handle in turn, as for a model zoo; a module that cannot be
    checked is a row with its error, not the end of the run. The options (or verify's
    keyword arguments) are checked once, before any module is loaded."""
    if not handles:
        raise UsageError("no handles to check; give at least one")
    opts = merged(options, **verify_kwargs)
    entries = []
    for handle in handles:
        try:
            entries.append(ZooEntry(handle, verify(handle, options=opts), None))
        except StudyError as e:
            entries.append(ZooEntry(handle, None, e))
    return entries


# compare's texts: verify's, and one with accents, where tokenizers that strip them and
# tokenizers that do not part.
COMPARE_TEXTS: tuple[Text, ...] = (*DEFAULT_TEXTS, "Zürich's café served crème brûlée.")


def compare(a: str | Side | None, b: str | Side | None, texts: Sequence[Text] | None = None,
            max_seq_length: int | None = None) -> Parting:
    """Where two models' pooled outputs part: tokenizer, encoder, pooler weights, pooler.

    a, b: each side as a handle verify takes, with its options written as the plugin writes
      them ("PATH,preprocess=P", "PATH,vocab=V"; "default" or None for the embedded module),
      or a sides.Side.
    texts: as for verify; None for COMPARE_TEXTS.
    Each side is studied on its own (verify, with its own tokenizer), then B is run on A's ids.
    """
    side_a, side_b = (s if isinstance(s, Side) else sides.parse(s) if s is not None else Side(None)
                      for s in (a, b))
    opts = [Options(texts=texts if texts is not None else COMPARE_TEXTS, max_seq_length=max_seq_length,
                    preprocess=side.preprocess, vocab=side.vocab) for side in (side_a, side_b)]
    ma, mb = load(side_a.handle), load(side_b.handle)
    ra, rb = pipeline.verify(ma, opts[0]), pipeline.verify(mb, opts[1])
    return parting.compare(ra, rb, ma, mb)


def inspect(handle: str | None) -> dict[str, Any]:
    """What a module is, without running it (reports/inspection.py): format, graph variants
    and signatures, variables, where the pooler lives, the vocab, and who built it."""
    from tfhub_pooling.reports import inspection

    return inspection.document(provision.load_any(handle))
