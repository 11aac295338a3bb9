"""Durable notifier state on AWS: the notify SQLite file kept in one S3 object, saved with If-Match.

Lambda's ``/tmp`` lasts as long as one execution environment, so the deployed notifier keeps its
state (incidents, acknowledgements, escalation timers, digests, the dedup marks) in the stack's
state bucket. The notifier runs with reserved concurrency 1 — one writer at a time — and each
invocation:

1. ``fetch``: asks S3 for the object unless it still has the ETag of the local copy
   (``If-None-Match``); a newer object, or a copy of unknown provenance, is replaced (``install``);
2. runs the pipeline on the local SQLite file, as ``heron up`` does;
3. ``save``: when the file changed (``PRAGMA data_version`` on a watching connection), uploads a
   consistent snapshot (SQLite's backup API) with ``If-Match`` on the ETag it started from
   (``If-None-Match: *`` for the first save). A writer that started from an older state is
   refused with ``StaleStateError`` instead of overwriting newer incidents.

Every snapshot carries a generation number, so no two saves are byte-identical and an ETag can
never come back (no ABA). The link-signing key lives beside it (``notify/links.key``), created
once with ``If-None-Match: *`` so every environment signs and checks links with the same key.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.monitor.notify.links import KEY_FILE, load_or_create_key

log = logging.getLogger("heron.notify")
#: The state bucket (the stack's ``NotifyStateBucket``); unset means state stays in ``/tmp``.
BUCKET_ENV = "HERON_NOTIFY_STATE_BUCKET"
#: botocore's own per-service endpoint variable (a local S3 such as a moto server).
ENDPOINT_ENV = "AWS_ENDPOINT_URL_S3"
#: Object keys in the bucket; the notifier's role may touch nothing else.
PREFIX = "notify/"
STATE_KEY = f"{PREFIX}heron-notify.db"
LINK_KEY = f"{PREFIX}links.key"
#: The notify database's file name in the state directory (``build_notifier`` opens it).
DB_FILE = "heron-notify.db"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NOT_MODIFIED = ("304", "NotModified")
_MISSING = ("404", "NoSuchKey", "NotFound")
_CONFLICT = ("412", "PreconditionFailed", "409", "ConditionalRequestConflict")


class StateError(RuntimeError):
    """The durable state could not be read or written (the invocation fails; S3 is unchanged)."""


class StaleStateError(StateError):
    """Another writer saved newer state since this one restored it: this save was refused."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A newer durable state to install: the object's bytes and ETag (both None: no state yet)."""

    body: bytes | None
    etag: str | None


def _code(exc: Exception) -> str:
    # S3's error code ("NoSuchKey", "PreconditionFailed"), else the HTTP status, else the
    # exception's type (a connection error has no response).
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code") or status or type(exc).__name__)


def s3_client(environ: Mapping[str, str]) -> Any:
    """An S3 client for the function's region (and ``AWS_ENDPOINT_URL_S3`` when set).

    botocore directly, not boto3: it is one of Heron's own dependencies (so the package Lambda
    runs carries a version that knows ``IfMatch``), whereas boto3 would be the runtime's copy.
    """
    session = importlib.import_module("botocore.session").get_session()
    config = importlib.import_module("botocore.config").Config(
        retries={"mode": "standard"}, connect_timeout=5, read_timeout=20
    )
    return session.create_client(
        "s3",
        region_name=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        endpoint_url=environ.get(ENDPOINT_ENV) or None,
        config=config,
    )


def generation_of(path: Path) -> int:
    """The generation stamped into a snapshot (0 for a database never saved by ``save``)."""
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT generation FROM heron_state_generation").fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()
    return int(row[0]) if row else 0


class DurableState:
    """The notify database in ``directory``, restored from and saved to ``bucket``."""

    def __init__(self, s3: Any, bucket: str, directory: Path) -> None:
        self.s3, self.bucket, self.directory = s3, bucket, directory
        #: ETag of the object the local file equals; "" = no object yet; None = unknown.
        self.etag: str | None = None
        self.generation = 0
        self._watch: sqlite3.Connection | None = None
        self._seen: int | None = None

    @property
    def db_path(self) -> Path:
        """The local SQLite file the notifier opens."""
        return self.directory / DB_FILE

    def ensure_link_key(self) -> None:
        """Put the stack's link-signing key in the directory (created in S3 on first use)."""
        path = self.directory / KEY_FILE
        try:
            key = self._get(LINK_KEY)["Body"].read()
        except Exception as exc:
            if _code(exc) not in _MISSING:
                raise StateError(
                    f"cannot read s3://{self.bucket}/{LINK_KEY}: {_code(exc)}"
                ) from None
            path.unlink(missing_ok=True)  # a key of unknown origin must not sign links
            local = load_or_create_key(self.directory).hex().encode() + b"\n"
            try:
                self.s3.put_object(Bucket=self.bucket, Key=LINK_KEY, Body=local, IfNoneMatch="*")
                return
            except Exception as put_exc:
                if _code(put_exc) not in _CONFLICT:
                    raise StateError(
                        f"cannot create s3://{self.bucket}/{LINK_KEY}: {_code(put_exc)}"
                    ) from None
            key = self._get(LINK_KEY)["Body"].read()  # another environment made it first
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)

    def fetch(self) -> Fetched | None:
        """The durable state when it differs from the local copy, else None (the copy is current)."""
        kwargs: dict[str, Any] = {}
        if self.etag:
            kwargs["IfNoneMatch"] = self.etag
        try:
            got = self._get(STATE_KEY, **kwargs)
        except Exception as exc:
            code = _code(exc)
            if code in _NOT_MODIFIED:
                return None
            if code in _MISSING:
                return None if self.etag == "" else Fetched(None, None)
            raise StateError(f"cannot read s3://{self.bucket}/{STATE_KEY}: {code}") from None
        body = got["Body"].read()
        if not body.startswith(_SQLITE_MAGIC):
            raise StateError(f"s3://{self.bucket}/{STATE_KEY} is not a SQLite database; not used")
        return Fetched(body, str(got["ETag"]))

    def install(self, fetched: Fetched) -> None:
        """Replace the local files with ``fetched`` (the notifier must be closed first)."""
        self.forget()
        for suffix in ("", "-wal", "-shm", ".part"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        self.generation = 0
        if fetched.body is not None:
            part = Path(f"{self.db_path}.part")
            part.write_bytes(fetched.body)
            try:
                self.generation = generation_of(part)
            except sqlite3.DatabaseError as exc:
                part.unlink()
                self.etag = None
                raise StateError(f"s3://{self.bucket}/{STATE_KEY} is unreadable: {exc}") from None
            part.rename(self.db_path)
        self.etag = fetched.etag or ""
        log.info("notifier state: restored generation %d", self.generation)

    def begin(self) -> None:
        """Start watching the local file for changes (after the notifier has opened it)."""
        if self._watch is None:
            self._watch = sqlite3.connect(self.db_path, isolation_level=None)
        self._seen = self._data_version()

    def _data_version(self) -> int:
        assert self._watch is not None
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """Whether another connection (the notifier's) committed since ``begin``."""
        return self._watch is not None and self._data_version() != self._seen

    def save(self) -> bool:
        """Upload a snapshot if anything changed, conditional on the ETag restored; True if saved."""
        if self.etag is None:
            raise StateError("the local notifier state was never restored; refusing to save it")
        if not self.changed():
            return False
        assert self._watch is not None
        snapshot = Path(f"{self.db_path}.snapshot")
        snapshot.unlink(missing_ok=True)
        target = sqlite3.connect(snapshot)
        try:
            self._watch.backup(target)  # a consistent copy, WAL contents included
            target.execute("CREATE TABLE IF NOT EXISTS heron_state_generation (generation INTEGER)")
            target.execute("DELETE FROM heron_state_generation")
            target.execute("INSERT INTO heron_state_generation VALUES (?)", (self.generation + 1,))
            target.commit()
        finally:
            target.close()
        body = snapshot.read_bytes()
        snapshot.unlink()
        condition = {"IfMatch": self.etag} if self.etag else {"IfNoneMatch": "*"}
        try:
            put = self.s3.put_object(Bucket=self.bucket, Key=STATE_KEY, Body=body, **condition)
        except Exception as exc:
            code = _code(exc)
            if code in _CONFLICT:
                self.forget()
                raise StaleStateError(
                    f"s3://{self.bucket}/{STATE_KEY} changed since generation {self.generation}"
                    " was restored (another writer); this invocation's changes were not saved"
                ) from None
            raise StateError(f"cannot write s3://{self.bucket}/{STATE_KEY}: {code}") from None
        self.etag, self.generation = str(put["ETag"]), self.generation + 1
        self._seen = self._data_version()
        log.info("notifier state: saved generation %d (%d bytes)", self.generation, len(body))
        return True

    def forget(self) -> None:
        """Distrust the local copy: the next ``fetch`` downloads the durable state again."""
        self.etag = None
        if self._watch is not None:
            with contextlib.suppress(sqlite3.Error):
                self._watch.close()
        self._watch, self._seen = None, None

    def _get(self, key: str, **kwargs: Any) -> Any:
        return self.s3.get_object(Bucket=self.bucket, Key=key, **kwargs)


def durable_state(environ: Mapping[str, str], directory: Path) -> DurableState | None:
    """The durable state the environment configures (``HERON_NOTIFY_STATE_BUCKET``), or None."""
    bucket = environ.get(BUCKET_ENV)
    if not bucket:
        return None
    return DurableState(s3_client(environ), bucket, directory)
