"""A module's vocab file -> the tokenizer its exporter meant, and its special ids.

Two kinds, told apart by content, not by file name:

  WORDPIECE      a text file, one token a line, holding [CLS], [SEP], [UNK]
                 (BERT's vocab.txt), or a Hugging Face tokenizer.json whose model is
                 WordPiece (its `model.vocab`, token -> id) -> tensorflow_text BertTokenizer
  SENTENCEPIECE  a serialized SentencePiece model holding the pieces [CLS], [SEP],
                 <pad> (ALBERT's 30k-clean.model, a TF2 object's sp_model_file,
                 KerasHub's vocabulary.spm) -> tensorflow_text SentencepieceTokenizer

ALBERT removes accents always and lower-cases when the module says so, before
SentencePiece sees the text (google-research/albert tokenization.py with
keep_accents=False; Model Garden's ALBERT preprocessing model, strip_diacritics=True).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf
import tensorflow_text as text

from tfhub_pooling import untrusted
from tfhub_pooling.errors import UsageError, first_line

WORDPIECE = "WordPiece"
# tokenizer.json holds the vocab and, for byte-level models, merges: multilingual ones reach ~20 MB.
MAX_TOKENIZER_JSON_BYTES = 64 << 20
SENTENCEPIECE = "SentencePiece"


@dataclasses.dataclass(frozen=True)
class Vocab:
    file: str
    kind: str           # WORDPIECE or SENTENCEPIECE
    size: int
    cls_id: int
    sep_id: int
    pad_id: int
    tokens: tuple[str, ...] | None = None   # a tokenizer.json's WordPiece vocab, in id order; None: the file's lines


def read(vocab_file: str) -> Vocab:
    """The vocab at vocab_file, of either kind; UsageError if it is neither."""
    untrusted.check_size(vocab_file, untrusted.MAX_VOCAB_BYTES, "vocab", UsageError)
    try:
        with open(vocab_file, "rb") as f:
            data = f.read(untrusted.MAX_VOCAB_BYTES + 1)
    except OSError as e:
        raise UsageError(f"cannot read vocab {vocab_file}: {e.strerror}") from None
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and decoded.lstrip().startswith("{"):
        return _tokenizer_json(vocab_file)
    tokens = [line.rstrip("\r") for line in decoded.split("\n")] if decoded is not None else None
    if tokens is not None and "[CLS]" in tokens:
        if tokens[-1] == "":
            tokens.pop()            # the newline that ends the last line
        ids = _line_ids(vocab_file, tokens)
        for special in ("[SEP]", "[UNK]"):
            if special not in ids:
                raise UsageError(f"vocab {vocab_file} has no {special} token; it is no BERT vocab")
        return Vocab(vocab_file, WORDPIECE, len(tokens), ids["[CLS]"], ids["[SEP]"], ids.get("[PAD]", 0))
    return _sentencepiece(vocab_file, data)


def _line_ids(vocab_file: str, tokens: list[str]) -> dict[str, int]:
    """Token -> id (its line, from 0). A token's id is its line, so an empty line or a
    token on two lines is a damaged vocab: TensorFlow's lookup table refuses both."""
    ids: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token == "":
            raise UsageError(f"vocab {vocab_file} line {i + 1} is empty; a WordPiece vocab has one "
                             "token a line, so the file is damaged")
        if token in ids:
            raise UsageError(f"vocab {vocab_file} line {i + 1} repeats {token!r} from line "
                             f"{ids[token] + 1}; the file is damaged")
        ids[token] = i
    return ids


def _tokenizer_json(vocab_file: str) -> Vocab:
    """The WordPiece vocab inside a Hugging Face tokenizer.json (`model.vocab`: token -> id),
    its ids held to be 0..n-1, each once, as a vocab.txt's lines are."""
    doc = untrusted.read_json(vocab_file, "tokenizer.json", UsageError, limit=MAX_TOKENIZER_JSON_BYTES)
    model = doc.get("model") if isinstance(doc, dict) else None
    vocab = model.get("vocab") if isinstance(model, dict) else None
    if not isinstance(model, dict) or model.get("type") != "WordPiece" or not isinstance(vocab, dict):
        kind = model.get("type") if isinstance(model, dict) else None
        raise UsageError(f"{vocab_file} is a tokenizer.json whose model is {kind or 'missing'}, not WordPiece; "
                         "only a WordPiece one is read as a BERT vocab")
    ids = sorted((i, t) for t, i in vocab.items() if isinstance(i, int) and not isinstance(i, bool))
    if len(ids) != len(vocab) or [i for i, _ in ids] != list(range(len(ids))):
        raise UsageError(f"{vocab_file}: its WordPiece ids are not 0 to {len(vocab) - 1}, each once; "
                         "the file is damaged")
    tokens = tuple(t for _, t in ids)
    for special in ("[CLS]", "[SEP]", "[UNK]"):
        if special not in vocab:
            raise UsageError(f"{vocab_file}: its WordPiece vocab has no {special} token; it is no BERT vocab")
    return Vocab(vocab_file, WORDPIECE, len(tokens), vocab["[CLS]"], vocab["[SEP]"], vocab.get("[PAD]", 0), tokens)


def wordpieces(vocab: Vocab) -> list[str]:
    """A WordPiece vocab's tokens in id order."""
    if vocab.tokens is not None:
        return list(vocab.tokens)
    with open(vocab.file, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def pieces(vocab: Vocab) -> list[str]:
    """Every entry of either kind, in id order: what an id stands for."""
    if vocab.kind == WORDPIECE:
        return wordpieces(vocab)
    with open(vocab.file, "rb") as f:
        tokenizer = text.SentencepieceTokenizer(model=f.read())
    return [p.decode("utf-8", "replace") for p in tokenizer.id_to_string(tf.range(vocab.size)).numpy()]


def _sentencepiece(vocab_file: str, model: bytes) -> Vocab:
    specials = ("[CLS]", "[SEP]", "<pad>")
    try:
        tokenizer = text.SentencepieceTokenizer(model=model)
        ids = tokenizer.string_to_id(tf.constant(specials)).numpy()
        back = [b.decode() for b in tokenizer.id_to_string(tf.constant(ids)).numpy()]
        size = int(tokenizer.vocab_size().numpy())
    except (tf.errors.OpError, ValueError) as e:
        raise UsageError(f"vocab {vocab_file} is neither a WordPiece vocab (no [CLS] line) nor a "
                         f"SentencePiece model ({first_line(e)})") from None
    missing = [s for s, b in zip(specials, back, strict=False) if s != b]
    if missing:
        raise UsageError(f"SentencePiece model {vocab_file} has no {', '.join(missing)} piece; "
                         "it is no ALBERT vocab")
    return Vocab(vocab_file, SENTENCEPIECE, size, *(int(i) for i in ids))


class Pieces(tf.Module):
    """The tokenizer the module's exporter meant, as strings [B] -> ids ragged [B, (pieces)].

    A tf.Module, so a SavedModel that holds it tracks the vocab (preprocess_writer.py)."""

    def __init__(self, vocab: Vocab, lower_case: bool, out_type: tf.DType = tf.int64):
        super().__init__()
        self.kind, self.lower_case = vocab.kind, lower_case
        if vocab.kind == WORDPIECE:
            self.tokenizer = text.BertTokenizer(_lookup(vocab), lower_case=lower_case, token_out_type=out_type)
        else:
            with open(vocab.file, "rb") as f:   # its op gives int32 ids only
                self.tokenizer = text.SentencepieceTokenizer(model=f.read(), out_type=tf.int32)
        self.out_type = out_type

    def __call__(self, strings: tf.Tensor) -> tf.RaggedTensor:
        if self.kind == WORDPIECE:
            return self.tokenizer.tokenize(strings).merge_dims(-2, -1)   # [B, (words), (pieces)] -> [B, (pieces)]
        strings = tf.strings.regex_replace(text.normalize_utf8(strings, "NFD"), r"\p{Mn}", "")
        pieces = self.tokenizer.tokenize(text.case_fold_utf8(strings) if self.lower_case else strings)
        return tf.cast(pieces, self.out_type)


def _lookup(vocab: Vocab) -> str | tf.lookup.StaticHashTable:
    """A vocab.txt by its path (a SavedModel tracks it as an asset); a tokenizer.json's tokens
    as a table of token -> id."""
    if vocab.tokens is None:
        return vocab.file
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(vocab.tokens), tf.range(vocab.size, dtype=tf.int64)),
        default_value=-1)


def describe(vocab: Vocab, lower_case: bool, tokenizer: str | None = None, owner: str = "the module's") -> str:
    """tokenizer: who tokenizes, if not tensorflow_text; it normalizes text its own way.
    owner: whose vocab it is."""
    how = "lower case" if lower_case else "cased"
    if tokenizer is None:
        tokenizer = ("tensorflow_text BertTokenizer" if vocab.kind == WORDPIECE
                     else "tensorflow_text SentencepieceTokenizer")
        how += ", accents removed" if vocab.kind == SENTENCEPIECE else ""
    return f"{tokenizer} over {owner} {os.path.basename(vocab.file)} ({how})"


def whole_words(vocab: Vocab) -> list[str]:
    """Entries that are plain words: no [special], no ##suffix, letters only; for
    SentencePiece, the word-initial pieces (▁word) without their marker."""
    if vocab.kind == WORDPIECE:
        entries = [e.strip() for e in wordpieces(vocab)]
    else:
        with open(vocab.file, "rb") as f:
            tokenizer = text.SentencepieceTokenizer(model=f.read())
        pieces = tokenizer.id_to_string(tf.range(vocab.size)).numpy()
        entries = [p.decode("utf-8")[1:] for p in pieces if p.startswith("▁".encode())]
    return [w for w in entries if w.isalpha() and w.isascii()]


def generate_texts(n: int, vocab_file: str, seed: int = 0,
                   min_words: int = 4, max_words: int = 30) -> list[str | tuple[str, str]]:
    """n seeded random sentences; every fifth one a pair."""
    # An array once: rng.choice converts a list afresh on every call (~5 ms for 20k words).
    words = np.array(whole_words(read(vocab_file)))
    if len(words) < 100:
        raise UsageError(f"vocab {vocab_file} has too few whole words to generate texts from")
    rng = np.random.default_rng(seed)

    def sentence() -> str:
        picked = rng.choice(words, size=int(rng.integers(min_words, max_words + 1)))
        return " ".join(picked).capitalize() + rng.choice([".", "?", "!"])

    return [(sentence(), sentence()) if i % 5 == 4 else sentence() for i in range(n)]
