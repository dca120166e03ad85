"""One side of a comparison, or one handle of the plugin, as users write it:
`HANDLE`, `HANDLE,preprocess=HANDLE`, `HANDLE,vocab=FILE`; `default` is the embedded module."""

from __future__ import annotations

import dataclasses

from tfhub_pooling.errors import UsageError

DEFAULT = "default"
OPTIONS = ("preprocess", "vocab")


@dataclasses.dataclass(frozen=True)
class Side:
    handle: str | None              # None: the embedded default module
    preprocess: str | None = None   # a preprocessing model's handle, to make the inputs with
    vocab: str | None = None        # a vocab file, for an encoder that carries none

    def __str__(self) -> str:
        options = [f"{k}={getattr(self, k)}" for k in OPTIONS if getattr(self, k) is not None]
        return ",".join([self.handle or DEFAULT, *options])


def parse(text: str) -> Side:
    handle, *options = [part.strip() for part in text.split(",")]
    if not handle:
        raise UsageError(f"{text!r} names no handle; write HANDLE[,preprocess=HANDLE][,vocab=FILE]")
    given: dict[str, str] = {}
    for option in options:
        key, _, value = option.partition("=")
        if key not in OPTIONS or not value or key in given:
            raise UsageError(f"{text!r}: {option!r} is no option of a handle; write "
                             "HANDLE[,preprocess=HANDLE][,vocab=FILE], each once")
        given[key] = value
    return Side(None if handle == DEFAULT else handle, **given)


def read_handles_file(path: str, option: str) -> list[str]:
    """The handles a file lists, one a line, `#` starting a comment: as the CLI's
    --handles-file and the plugin's --pooler-handles-file (option) both read it."""
    try:
        with open(path, encoding="utf-8") as f:
            return [h for h in (line.split("#", 1)[0].strip() for line in f) if h]
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {option} {path} ({getattr(e, 'strerror', None) or e})") from None
