"""Handle -> local module directory, through tensorflow_hub's resolvers.

A handle is a tfhub.dev / Kaggle / other http(s) or gs:// URL, a local module
directory, or a local .tar.gz / .tgz / .tar of one (any case). URLs go through
tensorflow_hub as they would for any user (its cache, TFHUB_CACHE_DIR, its
download and unpacking); local archives go through tensorflow_hub's own
unpacking and cache by way of a resolver registered with hub.registry, so there
is no downloader of our own. What this module adds is what a CI job needs
around it: a deadline on the whole fetch, a stale download lock cleared and
said, and each failure as one line.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import tensorflow as tf
import tensorflow_hub as hub
from tensorflow_hub import compressed_module_resolver
from tensorflow_hub import resolver as hub_resolver

from tfhub_pooling import atomic
from tfhub_pooling.errors import (
    CannotWriteError,
    HandleError,
    NotAModuleError,
    UsageError,
    first_line,
)
from tfhub_pooling.study import archives

# Seconds one read may stall; DNS failures here answer at once.
URL_TIMEOUT_S = 10.0
# Seconds the whole fetch may take (a server can send a byte every few seconds
# forever); TFHUB_POOLING_FETCH_DEADLINE overrides it.
FETCH_DEADLINE_S = 600.0
DEADLINE_VARIABLE = "TFHUB_POOLING_FETCH_DEADLINE"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


KAGGLE = "kaggle://"
# https://www.kaggle.com/models/OWNER/MODEL/FRAMEWORK/VARIATION/VERSION: Keras ones are presets.
KAGGLE_MODELS = "https://www.kaggle.com/models/"


def kaggle_keras_handle(handle: str) -> str | None:
    """`owner/model/keras/variation/version` for a Kaggle handle of a Keras preset, else None
    (Kaggle's TensorFlow models stay with tensorflow_hub)."""
    if handle.startswith(KAGGLE):
        return handle.removeprefix(KAGGLE)
    if handle.startswith(KAGGLE_MODELS):
        parts = handle.removeprefix(KAGGLE_MODELS).strip("/").split("/")
        if len(parts) >= 3 and parts[2].lower() == "keras":
            return "/".join(parts)
    return None


HF = "hf://"
# What a Hugging Face checkpoint needs of a repository: no pickles, no other frameworks' weights.
HF_FILES = ["config.json", "*.safetensors", "model.safetensors.index.json", "vocab.txt", "spiece.model",
            "tokenizer.json", "tokenizer_config.json"]


def is_url(handle: str) -> bool:
    return handle.startswith(("http://", "https://", "gs://", KAGGLE))


def is_archive(handle: str) -> bool:
    return handle.lower().endswith(ARCHIVE_SUFFIXES)


def archive_module_dir(handle: str) -> str:
    """Where tensorflow_hub's cache keeps the unpacked archive (keyed by path, size, mtime)."""
    return os.path.join(hub_resolver.tfhub_cache_dir(use_temp=True), file_key(handle))


def file_key(path: str, stat_of: str | None = None) -> str:
    """The one cache key: a file's absolute path, size and mtime, so an edited or
    replaced file gets a new entry. stat_of: the file to stat, if not path itself."""
    st = os.stat(stat_of or path)
    return hashlib.sha1(f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()


class LocalArchiveResolver(hub_resolver.Resolver):
    """Unpacks a local module archive into tensorflow_hub's cache, as the URL path would."""

    def is_supported(self, handle: str) -> bool:
        return not is_url(handle) and is_archive(handle) and os.path.isfile(handle)

    def __call__(self, handle: str) -> str:
        module_dir = archive_module_dir(handle)
        os.makedirs(os.path.dirname(module_dir), exist_ok=True)

        def unpack(handle: str, tmp_dir: str) -> None:
            with open(handle, "rb") as f:
                archives.unpack(archives.Stream(f, handle, None, progress=False), tmp_dir)

        return hub_resolver.atomic_download(handle, unpack, module_dir)


class CheckedHttpResolver(compressed_module_resolver.HttpCompressedFileResolver):
    """tensorflow_hub's resolver for http(s) handles (`HANDLE?tf-hub-format=compressed`, its
    cache key, its lock and temp directory), with the archive unpacked by archives.unpack:
    each member checked before it is written, progress on a terminal."""

    def __call__(self, handle: str) -> str:
        def download(handle: str, tmp_dir: str) -> None:
            request = urllib.request.Request(self._append_compressed_format_query(handle))
            with self._call_urlopen(request) as response:
                length = response.headers.get("Content-Length")
                stream = archives.Stream(response, handle, int(length) if length and length.isdigit() else None,
                                         progress=sys.stderr.isatty())
                archives.unpack(stream, tmp_dir)
                stream.say_done()

        return hub_resolver.atomic_download(handle, download, url_module_dir(handle), self._lock_file_timeout_sec())


def url_module_dir(handle: str) -> str:
    """Where tensorflow_hub's cache keeps a URL's module (keyed by the handle's sha1)."""
    return os.path.join(hub_resolver.tfhub_cache_dir(use_temp=True), hashlib.sha1(handle.encode("utf8")).hexdigest())


_registered = False


def _register_resolvers() -> None:
    global _registered
    if not _registered:
        # Implementations added later are tried first, ahead of tensorflow_hub's own.
        hub.registry.resolver.add_implementation(LocalArchiveResolver())
        hub.registry.resolver.add_implementation(CheckedHttpResolver())
        _registered = True


def resolve(handle: str) -> str:
    """Returns the local directory tensorflow_hub resolves `handle` to."""
    if not handle.strip():
        raise UsageError("the handle is empty; pass a module directory, a .tar.gz of one, or a URL")
    try:
        handle.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"the handle {handle.encode('utf-8', 'backslashreplace').decode()} holds bytes "
                         "that are not UTF-8, and TensorFlow opens UTF-8 paths only; rename it, or link "
                         "it under a UTF-8 name") from None
    fetch_deadline()    # a bad setting is said before anything is fetched
    if kaggle_keras_handle(handle):
        return _resolve_kaggle(handle)
    if handle.startswith(HF):
        return _resolve_hf(handle)
    if is_url(handle):
        return _single_folder(_resolve_url(handle))
    if not os.path.exists(handle):
        if os.path.islink(handle):
            raise HandleError(f"{handle} is a broken symlink or a symlink loop; point --handle at "
                              "the module itself")
        raise HandleError(f"{handle} does not exist; pass a module directory, a .tar.gz of one, or a URL")
    if os.path.isfile(handle):
        if handle.lower().endswith(".tflite"):          # a LiteRT model is one file
            return os.path.abspath(handle)
        if not is_archive(handle):
            raise NotAModuleError(f"{handle} is a file, not a module; pass the directory that holds "
                                  "saved_model.pb, a .tar.gz of it, or a .tflite file")
        return _single_folder(_resolve_archive(handle))
    return os.path.abspath(hub.resolve(handle))


def _resolve_archive(handle: str) -> str:
    _register_resolvers()
    _check_cache_writable(handle)
    _clear_stale_lock(archive_module_dir(handle))
    try:
        return hub.resolve(handle)
    except (OSError, ValueError, tf.errors.OpError) as e:
        if _is_write_failure(e):
            raise _cache_error(handle, e) from None
        raise NotAModuleError(f"{handle} could not be unpacked as a module archive ({first_line(e)})") from None


def _resolve_url(handle: str) -> str:
    _register_resolvers()
    _check_cache_writable(handle)
    _clear_stale_lock(url_module_dir(handle))
    try:
        with _fetch_limits(handle):
            return hub.resolve(handle)
    except urllib.error.HTTPError as e:
        raise HandleError(http_refusal(handle, e.code, str(e.reason))) from None
    except (urllib.error.URLError, OSError, tf.errors.OpError, ValueError) as e:
        if isinstance(e, OSError) and _is_write_failure(e):
            raise _cache_error(handle, e) from None
        reason = getattr(e, "reason", None) or e
        raise HandleError(
            f"cannot fetch {handle} ({first_line(reason)}); download it where the network allows, "
            "then pass its directory or .tar.gz with --handle, or set TFHUB_CACHE_DIR to a cache "
            "that holds it") from None


TFHUB_DEV = ("https://tfhub.dev/", "http://tfhub.dev/")
KAGGLE_PAGE = "https://www.kaggle.com/models"


def http_refusal(handle: str, code: int, reason: str) -> str:
    """What an HTTP error means for this handle, and what to do, in one line."""
    moved = handle.startswith(TFHUB_DEV)
    if code in (401, 403):
        where = (f"tfhub.dev now sends its models to Kaggle Models ({KAGGLE_PAGE}), where this one may be gated "
                 "(sign in and accept its licence there) or removed" if moved else
                 "the model is gated, private or removed")
        return (f"cannot fetch {handle}: the server answered {code} {reason}; {where}; download it where you "
                "can, then pass its directory or .tar.gz with --handle, or set TFHUB_CACHE_DIR to a cache that "
                "holds it")
    if code == 404:
        gone = " (tfhub.dev's models that did not move to Kaggle were deleted in March 2024)" if moved else ""
        return (f"cannot fetch {handle}: the server has no such model (404 {reason}){gone}; check the owner, "
                "name and version in the handle")
    return (f"cannot fetch {handle}: the server answered {code} {reason}; try again later, or download it "
            "where the network allows and pass its directory or .tar.gz with --handle")


def _resolve_kaggle(handle: str) -> str:
    """KerasHub presets on Kaggle Models (`kaggle://owner/model/keras/variant/version`, or
    their https://www.kaggle.com/models/ URL), through kagglehub, the library made for them."""
    try:
        import kagglehub
    except ImportError:
        raise UsageError(f"{handle} is a Kaggle handle, and kagglehub is not installed; run "
                         "`pip install 'tfhub-pooling[keras-hub]'`") from None
    try:
        with _fetch_limits(handle):
            return kagglehub.model_download(kaggle_keras_handle(handle))
    except Exception as e:  # noqa: BLE001  (kagglehub raises requests', urllib3's and its own errors)
        if isinstance(e, HandleError):
            raise
        raise HandleError(f"cannot fetch {handle} ({first_line(e)}); download the preset where the network "
                          "allows, then pass its directory with --handle") from None


def _resolve_hf(handle: str) -> str:
    """A Hugging Face repository (`hf://OWNER/NAME`), through huggingface_hub and its cache,
    the files a checkpoint needs only; HF_HUB_OFFLINE=1 answers from the cache alone."""
    repo = handle.removeprefix(HF).strip("/")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise UsageError(f"{handle} is no Hugging Face handle; write hf://OWNER/NAME")
    try:
        import huggingface_hub
    except ImportError:
        raise UsageError(f"{handle} is a Hugging Face handle, and huggingface_hub is not installed; run "
                         "`pip install 'tfhub-pooling[keras-hub]'`") from None
    try:
        with _fetch_limits(handle):
            return huggingface_hub.snapshot_download(repo, allow_patterns=HF_FILES)
    except Exception as e:  # noqa: BLE001  (huggingface_hub raises httpx's, its own and OSErrors)
        if isinstance(e, HandleError):
            raise
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        raise HandleError(f"cannot fetch {handle} ({first_line(e)}); "
                          + ("HF_HUB_OFFLINE is set and the cache does not hold it; " if offline else "")
                          + "download the repository where the network allows (huggingface-cli download "
                          f"{repo}), then pass its directory with --handle") from None


@contextlib.contextmanager
def _fetch_limits(handle: str) -> Iterator[None]:
    """Every fetch: a stall limit on each read, and a deadline on the whole."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(URL_TIMEOUT_S)
    try:
        with _deadline(fetch_deadline(), handle):
            yield
    finally:
        socket.setdefaulttimeout(previous)


def fetch_deadline() -> float:
    """Seconds the whole fetch may take: TFHUB_POOLING_FETCH_DEADLINE, or FETCH_DEADLINE_S."""
    value = os.environ.get(DEADLINE_VARIABLE) or ""
    if not value:
        return FETCH_DEADLINE_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise UsageError(f"{DEADLINE_VARIABLE}={value!r} is not a number of seconds above 0; set it "
                         f"like {DEADLINE_VARIABLE}=600, or unset it")
    return seconds


class _FetchDeadline(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float, handle: str) -> Iterator[None]:
    """Interrupts a fetch that is still going after `seconds`, however slowly data arrives."""
    if threading.current_thread() is not threading.main_thread():
        yield                                   # signals reach the main thread only
        return

    def expire(signum, frame):
        raise _FetchDeadline()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _FetchDeadline:
        raise HandleError(f"cannot fetch {handle}: gave up after {seconds:g} s (the server is too "
                          "slow or stalled); download it where the network allows, then pass its "
                          "directory or .tar.gz with --handle") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _check_cache_writable(handle: str) -> None:
    """tensorflow_hub unpacks into TFHUB_CACHE_DIR; say so at once if it cannot."""
    cache_dir = hub_resolver.tfhub_cache_dir(use_temp=True)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=cache_dir):
            pass
    except OSError as e:
        raise _cache_error(handle, e) from None


def _cache_error(handle: str, e: OSError) -> CannotWriteError:
    cache_dir = hub_resolver.tfhub_cache_dir(use_temp=True)
    return CannotWriteError(f"cannot unpack {handle} into TFHUB_CACHE_DIR={cache_dir} "
                            f"({e.strerror or first_line(e)}); set TFHUB_CACHE_DIR to a writable "
                            "directory with free space")


def _is_write_failure(e: BaseException) -> bool:
    """A cache that cannot take the files: unwritable or full. TensorFlow's file
    system says so in its errors' types and messages, not in errno."""
    return getattr(e, "errno", None) in (errno.EACCES, errno.EROFS, errno.ENOSPC, errno.EPERM) \
        or isinstance(e, (tf.errors.PermissionDeniedError, tf.errors.ResourceExhaustedError)) \
        or "No space left on device" in str(e)


def _clear_stale_lock(module_dir: str) -> None:
    """Removes tensorflow_hub's download lock when no download holds it (the process
    that took it was killed, or its pid now belongs to another program), instead of
    waiting ten minutes for it in silence; and the temp directories of downloads
    killed before they could clean up."""
    lock = module_dir + ".lock"
    holder = _lock_holder(lock)
    if holder is not None:
        host, pid, uid = holder
        downloading = os.path.isdir(f"{module_dir}.{uid}.tmp") or _age_s(lock) < LOCK_GRACE_S
        if host != socket.gethostname() or (atomic.process_alive(int(pid)) and downloading):
            print(f"note: waiting for another download of this module (lock {lock}, held by "
                  f"process {pid} on {host}); if none is running, delete the lock", file=sys.stderr)
            _remove_stale_temps(module_dir, keep=uid)
            return
        with contextlib.suppress(OSError):
            os.remove(lock)
            why = "which is gone" if not atomic.process_alive(int(pid)) else "which is not downloading it"
            print(f"note: removed a stale download lock {lock} left by process {pid}, {why}",
                  file=sys.stderr)
    _remove_stale_temps(module_dir, keep=None)


# Seconds between tensorflow_hub taking its lock and making its temp directory: far less than this.
LOCK_GRACE_S = 30.0


def _lock_holder(lock: str) -> tuple[str, str, str] | None:
    """(host, pid, task uid) from tensorflow_hub's lock file `HOST.PID.UID`, or None."""
    try:
        with open(lock, encoding="utf-8") as f:
            host, pid, uid = f.read(4096).strip().rsplit(".", 2)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return (host, pid, uid) if pid.isdigit() else None


def _age_s(path: str) -> float:
    try:
        return time.time() - os.stat(path).st_mtime
    except OSError:
        return float("inf")


def _remove_stale_temps(module_dir: str, keep: str | None) -> None:
    """tensorflow_hub unpacks into MODULE.UID.tmp and removes it itself, unless it was
    killed (kill -9, a CI timeout); only the live lock's own temp directory is kept."""
    parent, name = os.path.split(module_dir)

    def stale(entry: str) -> bool:
        uid = entry[len(name) + 1:-len(".tmp")]
        return entry.startswith(name + ".") and entry.endswith(".tmp") and bool(uid) and uid != keep

    atomic.sweep(parent, stale)


def _single_folder(path: str) -> str:
    """An archive made of one top-level folder holds the module in that folder."""
    try:
        entries = [e for e in os.listdir(path) if not e.startswith(".")]
    except OSError:
        return path
    if len(entries) == 1 and os.path.isdir(os.path.join(path, entries[0])):
        return os.path.join(path, entries[0])
    return path
