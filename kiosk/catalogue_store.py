"""The catalogue in force: the newest valid one of the bundled file and the last one from the hub.

The sync engine hands each catalogue the hub serves to ``on_catalogue(bytes)`` (after checking
the hub's signature). A newer, valid one is written to ``<data_dir>/catalogue/catalogue.json``
atomically (temp file, fsync, rename, fsync of the folder) and takes effect for the next service
chosen; a malformed, schema-invalid or not-newer one is refused, logged, and the old one kept.
A session already filling a form keeps the ``Service`` it chose, so a swap never changes a form
under someone's fingers.
"""

from __future__ import annotations

import enum
import logging
import threading
from pathlib import Path

from offline.atomic_files import write_atomic
from protocol.catalogue import (
    BUNDLED_PATH,
    Catalogue,
    CatalogueError,
    catalogue_from_bytes,
    schema_digest,
)

log = logging.getLogger(__name__)

STORED_NAME = "catalogue.json"
CHECKED_NAME = "schema-checked.txt"  # digests of files that passed the schema (a cache; safe to delete)


class CatalogueUpdate(enum.Enum):
    """What became of a catalogue offered by the hub."""

    ACCEPTED = "accepted"  # newer and valid: stored, and in force from now on
    NOT_NEWER = "not_newer"  # valid, but its version is not above the one in force: ignored
    INVALID = "invalid"  # malformed or against the schema: refused
    NOT_STORED = "not_stored"  # newer and valid, but the disk refused it: old one kept, retried next sync


def _load(path: Path, checked: frozenset[str]) -> tuple[Catalogue, str]:
    """A catalogue file (read once) and its ``schema_digest``; the schema is skipped for a digest in ``checked``."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: {exc.strerror}") from None
    digest = schema_digest(blob)
    return catalogue_from_bytes(blob, schema_checked=digest in checked), digest


class CatalogueStore:
    """Holds the catalogue in force; thread-safe for one writer (sync) and many readers (UI)."""

    def __init__(self, data_dir: Path, bundled: Path = BUNDLED_PATH) -> None:
        self._folder = data_dir / "catalogue"
        self._lock = threading.Lock()
        checked = self._checked()
        self._current, digest = _load(bundled, checked)  # a broken bundled file stops the kiosk
        self._source = "bundled"
        stored = self._folder / STORED_NAME
        passed = {digest}
        if stored.exists():
            try:
                pulled, digest = _load(stored, checked)
            except CatalogueError as exc:
                # a damaged file on disk must not stop the kiosk: the bundled one still works
                log.warning("stored catalogue ignored: %s", exc)
            else:
                passed.add(digest)
                if pulled.version > self._current.version:
                    self._current, self._source = pulled, "hub"
        self._remember_checked(passed, checked)

    def _checked(self) -> frozenset[str]:
        """Digests of catalogue files (with the schema) that passed the schema at an earlier start."""
        try:
            return frozenset((self._folder / CHECKED_NAME).read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            return frozenset()

    def _remember_checked(self, digests: set[str], known: frozenset[str]) -> None:
        """Note the files just loaded as checked, so the next start skips the schema (about 60 ms)."""
        try:
            if digests != known:
                self._folder.mkdir(parents=True, exist_ok=True)
                write_atomic(self._folder / CHECKED_NAME, "\n".join(sorted(digests)).encode("ascii"))
        except OSError as exc:  # only a little slower next time
            log.info("catalogue check not remembered: %s", exc.strerror)

    def __call__(self) -> Catalogue:
        """The catalogue in force now (``Services.catalogue`` is this store)."""
        return self._current

    @property
    def source(self) -> str:
        """Where the catalogue in force came from: ``bundled`` or ``hub``."""
        return self._source

    def on_catalogue(self, blob: bytes) -> CatalogueUpdate:
        """Take a catalogue from the hub if it is valid and newer; otherwise keep the old one."""
        try:
            offered = catalogue_from_bytes(blob)
        except CatalogueError as exc:
            log.warning("catalogue from the hub refused, version %d kept: %s", self._current.version, exc)
            return CatalogueUpdate.INVALID
        with self._lock:
            if offered.version <= self._current.version:
                log.info(
                    "catalogue version %d from the hub ignored: version %d is in force",
                    offered.version,
                    self._current.version,
                )
                return CatalogueUpdate.NOT_NEWER
            try:
                self._write(blob)
            except OSError as exc:
                log.error("catalogue version %d not stored: %s", offered.version, exc.strerror)
                return CatalogueUpdate.NOT_STORED
            self._current, self._source = offered, "hub"
        log.info("catalogue version %d from the hub in force", offered.version)
        return CatalogueUpdate.ACCEPTED

    def _write(self, blob: bytes) -> None:
        """Replace the stored file so that a crash leaves either the old or the new one, whole."""
        self._folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self._folder / STORED_NAME, blob)
