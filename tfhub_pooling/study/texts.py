"""A text: one segment (a string) or a pair of segments (a 2-tuple of strings).

Every place that needs to tell the two apart asks here, and `check_texts` is
where the API refuses what would otherwise be misread (a bare string taken as
a list of one-letter texts, a third segment silently dropped).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tfhub_pooling.errors import UsageError

Text = str | tuple[str, str]


def segments(t: Text) -> tuple[str, ...]:
    return (t,) if isinstance(t, str) else tuple(t)


def label(t: Text) -> str:
    """One line for tables: a pair as `a ||| b`."""
    return " ||| ".join(segments(t))


def as_json(t: Text) -> str | list[str]:
    return t if isinstance(t, str) else list(t)


def check_texts(texts: Any) -> list[Text]:
    """The API's texts argument, as a list of Text; one line on what is wrong otherwise."""
    if isinstance(texts, (str, bytes)):
        raise UsageError("texts must be a list of texts, not one string; "
                         "write texts=[\"...\"] for a single text")
    try:
        items = list(texts)
    except TypeError:
        raise UsageError(f"texts must be a list of strings or (first, second) pairs, "
                         f"not {type(texts).__name__}") from None
    if not items:
        raise UsageError("no texts to run; give at least one")
    return [_check_one(i, t) for i, t in enumerate(items, 1)]


def _check_one(n: int, t: Any) -> Text:
    if isinstance(t, (tuple, list)) and len(t) == 2 and all(isinstance(s, str) for s in t):
        t = (t[0], t[1])
    elif not isinstance(t, str):
        raise UsageError(f"text {n} is {type(t).__name__} of {len(t) if hasattr(t, '__len__') else '?'}; "
                         "a text is a string or a (first, second) pair of strings")
    for s in segments(t):
        if not s.strip():
            raise UsageError(f"text {n} is empty or only white space; every text needs a word")
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:    # bytes the command line could not decode, kept as surrogates
            raise UsageError(f"text {n} is not valid UTF-8 (at character {e.start + 1}); pass texts "
                             "in UTF-8") from None
    return t


def any_pairs(texts: Iterable[Text]) -> bool:
    return any(not isinstance(t, str) for t in texts)


def check_lengths(max_seq_length: int | None, texts: Iterable[Text]) -> None:
    """Refuses a length that cannot hold [CLS], one token a segment and each [SEP]."""
    if max_seq_length is None:
        return
    if isinstance(max_seq_length, bool) or not isinstance(max_seq_length, int):
        raise UsageError(f"max_seq_length must be a whole number, not {max_seq_length!r}")
    need = 5 if any_pairs(texts) else 3
    if max_seq_length < need:
        raise UsageError(f"max_seq_length {max_seq_length} cannot hold [CLS], one token a segment "
                         f"and each [SEP]; give at least {need}"
                         + (" (the texts include pairs)" if need == 5 else ""))
