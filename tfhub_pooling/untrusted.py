"""Reading files someone else wrote: a module, a preset, a config, a texts file.

Each check here runs before memory or trust is spent on the file:

  inside       a path a module records stays inside the module (no `..`, no absolute
               path); a link inside that leads out is followed, and said
  check_size   a file's size against a cap, before it is read
  read_json    a JSON file, size-capped, its nesting depth bounded
  check_fits   the bytes a config implies against the memory the machine has

Both the study and the builder read such files, so this module imports neither.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from tfhub_pooling.errors import StudyError

# Config files are a few KB; a megabyte is far past any real one.
MAX_JSON_BYTES = 1 << 20
# The deepest nesting a real config has is 4-5 levels (KerasHub's tokenizer.json).
MAX_JSON_DEPTH = 64
# The largest real vocabs: multilingual BERT's vocab.txt (1 MB), XLM-R's SentencePiece model (5 MB).
MAX_VOCAB_BYTES = 64 << 20
# protobuf cannot parse a message of 2 GiB or more, so no valid saved_model.pb is that large.
MAX_PROTO_BYTES = (2 << 30) - 1


@dataclasses.dataclass(frozen=True)
class ModuleFile:
    path: str                   # the file, as named inside the module
    leads_to: str | None        # where a symlink on the way leads, when that is outside the module


def inside(root: str, recorded: str, what: str, error: type[StudyError]) -> ModuleFile:
    """recorded (relative to root, as a module's record gives it) as a path inside root.

    Refuses, without opening anything, a record that is absolute or climbs out
    with `..`. A symlink inside root that leads out (a symlinked cache) is followed,
    and leads_to says where it goes.
    """
    if not recorded or os.path.isabs(recorded) or "\0" in recorded:
        raise error(f"{root}: {what} is recorded as {recorded!r}, which is not a path inside the module; "
                    "the tool reads nothing outside what it was given, so the file was not opened")
    normal = os.path.normpath(recorded)
    if normal == ".." or normal.startswith(".." + os.sep):
        raise error(f"{root}: {what} is recorded as {recorded!r}, which leads out of the module; "
                    "the tool reads nothing outside what it was given, so the file was not opened")
    path = os.path.join(root, normal)
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    outside = os.path.commonpath([real, real_root]) != real_root
    return ModuleFile(path, real if outside else None)


def check_size(path: str, limit: int, what: str, error: type[StudyError]) -> int:
    """The size of the file at path; error if it exceeds limit."""
    try:
        size = os.stat(path).st_size
    except OSError as e:
        raise error(f"cannot read {what} {path} ({e.strerror})") from None
    if size > limit:
        raise error(f"{what} {path} is {size / 2**20:,.0f} MiB, more than the {limit / 2**20:,.0f} MiB "
                    "any real one has; it is damaged or not what it says")
    return size


def read_json(path: str, what: str, error: type[StudyError]) -> Any:
    """A JSON file someone else wrote, capped in size and depth."""
    check_size(path, MAX_JSON_BYTES, what, error)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except OSError as e:
        raise error(f"cannot read {what} {path} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 JSON") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise error(f"{what} {path} nests deeper than {MAX_JSON_DEPTH} levels; no real one does, "
                    "so it is damaged or hostile")
    try:
        return json.loads(text)
    except ValueError as e:
        raise error(f"{what} {path} is not valid JSON ({e})") from None


def _depth(text: str) -> int:
    """The deepest bracket nesting in a JSON text, counted outside strings; before
    json.loads, whose recursion a deep enough text exhausts."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def available_memory() -> int:
    """Bytes the machine can still give (MemAvailable), or its total memory where
    /proc/meminfo is not there."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(nbytes: int, what: str, error: type[StudyError]) -> None:
    """Refuses work whose weights alone would not fit in memory."""
    available = available_memory()
    if nbytes > available:
        raise error(f"{what} would need {nbytes / 2**30:,.1f} GiB for its weights alone, and this "
                    f"machine has {available / 2**30:,.1f} GiB free; check the sizes")
