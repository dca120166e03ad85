"""How a study runs, said once: the texts (or a texts file), the lengths, what makes the
inputs, and which checks run. Checked where it is made, as BertConfig checks itself, so
the CLI, the API and the plugin refuse the same things in the same words, before any
module is loaded."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tfhub_pooling import defaults
from tfhub_pooling.errors import UsageError
from tfhub_pooling.study.texts import Text, check_lengths, check_texts

# The question's own sentence first, then a few more and one sentence pair.
DEFAULT_TEXTS: tuple[Text, ...] = (
    "I am using BERT in Tensorflow and there is one detail I dont quite understand.",
    "pooled_output[0] is different from sequence_output[0, 0, :].",
    "The quick brown fox jumps over the lazy dog.",
    "Hello!",
    ("Why does the pooled output differ from the [CLS] vector?",
     "It is the [CLS] vector passed through one more dense layer and tanh."),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """texts: strings or (a, b) pairs, held as checked (None: DEFAULT_TEXTS); texts_file:
    corpus mode's file instead (one text a line, "-" for standard input).
    max_seq_length: trim to this many tokens; None for the module's own maximum.
    batch_size: texts a forward pass.
    preprocess: a preprocessing model's handle that makes the inputs instead of our tokenizer.
    vocab, lower_case: a vocab file and casing for an encoder that carries none, or to
      override its own; without lower_case, the tokenizer_config.json beside vocab says it.
    structure_test: where the bound holds, look for the residual a changed weight leaves.
    recover_weights: on a mismatch no look-alike explains, fit W and b from outputs.
    progress: a progress bar over a texts file."""

    texts: Sequence[Text] | None = None      # held as a checked tuple
    texts_file: str | None = None
    max_seq_length: int | None = None
    batch_size: int = defaults.BATCH_SIZE
    preprocess: str | None = None
    vocab: str | None = None
    lower_case: bool | None = None
    structure_test: bool = True
    recover_weights: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        if self.texts_file is not None and self.texts is not None:
            raise UsageError("give texts or a texts file, not both")
        if self.texts_file is None:
            checked = check_texts(self.texts if self.texts is not None else DEFAULT_TEXTS)
            object.__setattr__(self, "texts", tuple(checked))
        check_lengths(self.max_seq_length, self.texts or ())
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise UsageError(f"batch_size must be a whole number at least 1, not {self.batch_size!r}")
        if self.preprocess is not None and (self.vocab is not None or self.lower_case is not None):
            raise UsageError("--preprocess makes the inputs with the preprocessing model's own vocab and casing; "
                             "leave out --vocab and --lower-case")

    @property
    def text_list(self) -> list[Text]:
        """The texts verify runs on (not corpus mode's)."""
        return list(self.texts or ())


def merged(options: Options | None, **keywords: object) -> Options:
    """`options`, or the Options the keyword arguments make (the API takes both, for people);
    keyword arguments beside options= must be left at their defaults."""
    made = Options(**keywords)  # type: ignore[arg-type]
    if options is None:
        return made
    if made != Options():
        raise UsageError("pass options=Options(...) or keyword arguments, not both")
    return options

