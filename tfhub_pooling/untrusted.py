"""Reading files someone else wrote: a module, a preset, a config, a texts file.

Each check here runs before memory or trust is spent on the file:

  inside       a path a module records stays inside the module (no `..`, no absolute
               path); a link inside that leads out is followed, and said
  check_size   a file's size against a cap, before it is read
  read_json    a JSON file, size-capped, its nesting depth bounded
  check_fits   the bytes a config implies against the memory the machine has
  safetensors_header  what a .safetensors file says it holds, held to its own size

Both the study and the builder read such files, so this module imports neither.
"""

from __future__ import annotations

import dataclasses
import json
import math
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


def read_json(path: str, what: str, error: type[StudyError], limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON file someone else wrote, capped in size (limit) and depth."""
    check_size(path, limit, what, error)
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


# safetensors' own limit on its JSON header (safetensors/src/tensor.rs: MAX_HEADER_SIZE).
MAX_SAFETENSORS_HEADER = 100_000_000
SAFETENSORS_ITEM_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                          "U8": 1, "BOOL": 1}


@dataclasses.dataclass(frozen=True)
class TensorRecord:
    dtype: str                  # safetensors' name: F32, F16, BF16, I64, ...
    shape: tuple[int, ...]


def safetensors_header(path: str, error: type[StudyError]) -> dict[str, TensorRecord]:
    """What a .safetensors file says it holds, each tensor's offsets held to its dtype, its
    shape and the file's size before anything is read or mapped: a header that lies about
    sizes is refused here, not found out by a read past the end."""
    size = check_size(path, 1 << 46, "the safetensors file", error)
    try:
        with open(path, "rb") as f:
            prefix = f.read(8)
            length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if not 2 <= length <= min(MAX_SAFETENSORS_HEADER, size - 8):
                raise error(f"{path} is no safetensors file: its first 8 bytes give a header of {length} bytes "
                            f"in a file of {size}; it is truncated or not what it says")
            text = f.read(length).decode("utf-8")
    except OSError as e:
        raise error(f"cannot read {path} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: its safetensors header is not UTF-8 JSON; the file is damaged") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise error(f"{path}: its safetensors header nests deeper than {MAX_JSON_DEPTH} levels; it is hostile")
    try:
        header = json.loads(text)
    except ValueError as e:
        raise error(f"{path}: its safetensors header is not valid JSON ({e}); the file is damaged") from None
    if not isinstance(header, dict):
        raise error(f"{path}: its safetensors header is no JSON object; the file is damaged")
    data = size - 8 - length
    records = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        records[name] = _tensor_record(path, name, spec, data, error)
    return records


def _tensor_record(path: str, name: str, spec: Any, data: int, error: type[StudyError]) -> TensorRecord:
    dtype = spec.get("dtype") if isinstance(spec, dict) else None
    shape = spec.get("shape") if isinstance(spec, dict) else None
    offsets = spec.get("data_offsets") if isinstance(spec, dict) else None
    if (dtype not in SAFETENSORS_ITEM_BYTES or not isinstance(shape, list)
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            or not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise error(f"{path}: the header's entry for {name!r} is not a dtype, shape and data_offsets "
                    "safetensors knows; the file is damaged or hostile")
    begin, end = offsets
    nbytes = SAFETENSORS_ITEM_BYTES[dtype] * math.prod(shape)
    if not 0 <= begin <= end <= data or end - begin != nbytes:
        raise error(f"{path}: the header says {name!r} is {dtype} {shape} ({nbytes:,} bytes) at bytes "
                    f"{begin:,} to {end:,} of {data:,}; it lies about sizes, so the file is damaged or hostile")
    return TensorRecord(dtype, tuple(shape))
