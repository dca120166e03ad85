"""Handle -> local module directory, through tensorflow_hub's resolvers.

A handle is a tfhub.dev / Kaggle / other http(s) URL, a local module directory,
or a local .tar.gz / .tgz / .tar of one. URLs go through tensorflow_hub as they
would for any user (its cache, TFHUB_CACHE_DIR, its download and unpacking);
local archives go through tensorflow_hub's own unpacking and cache by way of a
resolver registered with hub.registry, so there is no downloader of our own.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.error

import tensorflow as tf
import tensorflow_hub as hub
from tensorflow_hub import resolver as hub_resolver

from tfhub_pooling.errors import HandleError, NotAModuleError

# Seconds a URL fetch may stall before we give up; DNS failures here answer at once.
URL_TIMEOUT_S = 10.0
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_url(handle: str) -> bool:
    return handle.startswith(("http://", "https://", "gs://"))


class LocalArchiveResolver(hub_resolver.Resolver):
    """Unpacks a local module archive into tensorflow_hub's cache, as the URL path would."""

    def is_supported(self, handle: str) -> bool:
        return (not is_url(handle) and handle.endswith(ARCHIVE_SUFFIXES)
                and os.path.isfile(handle))

    def __call__(self, handle: str) -> str:
        # Keyed by path, size and mtime, so an edited archive is unpacked anew.
        st = os.stat(handle)
        key = hashlib.sha1(f"{os.path.abspath(handle)}:{st.st_size}:{st.st_mtime_ns}".encode())
        module_dir = hub_resolver.create_local_module_dir(
            hub_resolver.tfhub_cache_dir(use_temp=True), key.hexdigest())

        def unpack(handle: str, tmp_dir: str) -> None:
            with open(handle, "rb") as f:
                hub_resolver.DownloadManager(handle).download_and_uncompress(f, tmp_dir)

        return hub_resolver.atomic_download(handle, unpack, module_dir)


_registered = False


def _register_archive_resolver() -> None:
    global _registered
    if not _registered:
        # Implementations added later are tried first, ahead of PathResolver.
        hub.registry.resolver.add_implementation(LocalArchiveResolver())
        _registered = True


def resolve(handle: str) -> str:
    """Returns the local directory tensorflow_hub resolves `handle` to."""
    if is_url(handle):
        return _resolve_url(handle)
    if not os.path.exists(handle):
        raise HandleError(f"{handle} does not exist; pass a module directory, a .tar.gz of one, or a URL")
    if os.path.isfile(handle):
        if not handle.endswith(ARCHIVE_SUFFIXES):
            raise NotAModuleError(f"{handle} is a file, not a module; pass the directory that holds "
                                  "saved_model.pb, or a .tar.gz of it")
        _register_archive_resolver()
        try:
            return hub.resolve(handle)
        except (IOError, ValueError) as e:
            raise NotAModuleError(f"{handle} could not be unpacked as a module archive ({e})") from e
    return os.path.abspath(hub.resolve(handle))


def _resolve_url(handle: str) -> str:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(URL_TIMEOUT_S)
    try:
        return hub.resolve(handle)
    except (urllib.error.URLError, OSError, tf.errors.OpError) as e:
        reason = getattr(e, "reason", None) or e
        raise HandleError(
            f"cannot fetch {handle} ({reason}); download it where the network allows, then pass "
            "its directory or .tar.gz with --handle, or set TFHUB_CACHE_DIR to a cache that holds it"
        ) from e
    finally:
        socket.setdefaulttimeout(previous)
