"""What makes a module's encoder inputs: its own tokenizer over its vocab (or the vocab and
casing the user named), or a preprocessing model; and the batches and generated texts
the study runs through it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence

import numpy as np

from tfhub_pooling import defaults
from tfhub_pooling.errors import InterfaceError, UsageError
from tfhub_pooling.study import detect, forward, handles, keras_hub_loading, loading, modules
from tfhub_pooling.study.encoder_inputs import EncoderInputs, Inputs, PreprocessingModel, Tokenizer
from tfhub_pooling.study.options import Options
from tfhub_pooling.study.texts import Text


def load_preprocessor(handle: str) -> PreprocessingModel:
    """What --preprocess names, resolved and loaded through the one module boundary."""
    return modules.load_preprocessing(handle, detect.detect(handles.resolve(handle)))


def prepare(module: loading.LoadedModule, options: Options) -> tuple[loading.LoadedModule, Inputs, int]:
    """The module, what makes its inputs, and the length to trim to.

    options.vocab, .lower_case: the vocab file and casing the user named, for an encoder that
    carries none (a Hugging Face SavedModel named by itself) or to override its own.
    """
    vocab, lower_case, max_seq_length = options.vocab, options.lower_case, options.max_seq_length
    if vocab is not None or lower_case is not None:
        module = named_vocab(module, vocab, lower_case)
    if options.preprocess is None:
        if module.facts.vocab_file is None:
            raise InterfaceError(f"{module.facts.path} carries no vocab_file / do_lower_case or sp_model_file, "
                                 "so its vocab is unknown; pass its vocab with --vocab, or its preprocessing "
                                 "model with --preprocess")
        source: Inputs
        if module.tokenizer is not None:    # a KerasHub preset: its own tokenizer makes the word pieces
            source = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case,
                               word_pieces=keras_hub_loading.word_pieces(module.tokenizer),
                               name=f"the preset's own KerasHub {type(module.tokenizer).__name__}")
        else:
            source = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case,
                               owner="the --vocab file" if vocab is not None else "the module's")
        if module.vocab_rows is not None and source.vocab.size > module.vocab_rows:
            raise InterfaceError(f"vocab {module.facts.vocab_file} has {source.vocab.size} entries, and the module's "
                                 f"word-embedding table has {module.vocab_rows} rows; the vocab is not this "
                                 "module's, or one of the two is damaged")
    else:
        source = load_preprocessor(options.preprocess)
        max_seq_length = max_seq_length or defaults.PREPROCESS_SEQ_LENGTH
    return module, source, min(max_seq_length or module.facts.max_seq_length, module.facts.max_seq_length)


def named_vocab(module: loading.LoadedModule, vocab: str | None, lower_case: bool | None
                ) -> loading.LoadedModule:
    """The module with the vocab file and casing the user named (--vocab, --lower-case).
    Without an explicit casing, the tokenizer_config.json beside the vocab file says it."""
    if module.tokenizer is not None:
        raise UsageError(f"{module.facts.handle} is a KerasHub preset, which tokenizes with its own tokenizer; "
                         "leave out --vocab and --lower-case")
    if vocab is not None and not os.path.isfile(vocab):
        raise UsageError(f"--vocab {vocab} is not a file; pass the vocab.txt the model was trained with")
    vocab_file = vocab if vocab is not None else module.facts.vocab_file
    if vocab_file is None:
        raise UsageError(f"{module.facts.path} carries no vocab, so --lower-case has none to apply to; pass --vocab too")
    casing_from = "option"
    if lower_case is None:
        lower_case = loading.tokenizer_casing(os.path.dirname(os.path.abspath(vocab_file)))
        casing_from = "tokenizer-config"
    place = loading.NAMED_VOCAB if vocab is not None else module.facts.vocab_source
    facts = dataclasses.replace(module.facts, vocab_file=vocab_file, do_lower_case=lower_case,
                                vocab_source=dataclasses.replace(place, casing_from=casing_from))
    return dataclasses.replace(module, facts=facts)


def batches_of(source: Inputs, texts: Sequence[Text], max_seq_length: int,
               batch_size: int = defaults.BATCH_SIZE) -> Iterator[tuple[np.ndarray, EncoderInputs]]:
    """(rows, inputs) batches of texts packed together, so rows are padded to the longest
    text of all batches."""
    packed = source.pack(texts, max_seq_length)
    for i in range(0, len(texts), batch_size):
        rows = np.arange(i, min(i + batch_size, len(texts)))
        yield rows, packed.batch(rows)


def run_texts(module: loading.LoadedModule, source: Inputs, texts: Sequence[Text],
              max_seq_length: int, batch_size: int = defaults.BATCH_SIZE) -> forward.Outputs:
    """The outputs of generated texts, which only the structure test and the fit use."""
    ran = forward.run_many(module, batches_of(source, texts, max_seq_length, batch_size))
    return forward.concat([out for _, _, out in ran])


def words_from(module: loading.LoadedModule, source: Inputs) -> str:
    """The vocab file whose words the generated texts are made of."""
    vocab_file = module.facts.vocab_file or source.vocab_file
    if vocab_file is None:
        raise InterfaceError(f"neither {module.facts.path} nor its preprocessing model carries a vocab file to make "
                             "texts of for the structure test and the diagnosis; pass --vocab, or "
                             "--no-structure and --no-recover")
    return vocab_file


