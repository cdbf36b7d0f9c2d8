"""Object storage for published files and shared clips: a local folder or an S3-compatible bucket.

``open_storage(url)`` picks the backend from the URL:

* a folder path (or ``file:///path``) → :class:`LocalStorage`; the single-machine default;
* ``s3://bucket/prefix`` → :class:`S3Storage` over boto3 (the optional extra ``vnreader[s3]``,
  imported only when an ``s3://`` URL is opened). The endpoint comes from
  ``VNREADER_S3_ENDPOINT``, else ``AWS_ENDPOINT_URL`` (unset: Amazon S3 itself); the region from
  ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` (default ``us-east-1``); the credentials from boto3's
  usual places (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ``~/.aws/credentials``).
  A custom endpoint (SeaweedFS, MinIO, Garage…) is addressed path-style.

Both speak the same five operations on ``/``-separated keys relative to the storage's root:

``put(key, data_or_path)``
    Atomic from a reader's view: a folder gets a temp file and a rename (``reader/fsutil.py``);
    an S3 PUT makes the object appear only once it is whole. The object's SHA-256 is stored
    with it (S3 metadata ``sha256``), and its content type is set from the name
    (:data:`CONTENT_TYPES`), so a bucket can serve the podcast directly.
``get(key)`` the bytes, or None when there is no such object.
``head(key)`` an :class:`ObjectInfo` (size, sha256, content type), or None.
``list(prefix)`` every object under ``prefix``, sorted by key (from S3 without ``sha256``).
``delete(key)`` no error when it is already gone.

Failures of the storage itself (unreachable endpoint, bad credentials, missing bucket, a full
disk) raise :class:`~reader.errors.StorageError` naming the object and the fix; a bad URL or
key raises :class:`~reader.errors.UsageError`.
"""
from __future__ import annotations

import builtins
import contextlib
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol
from urllib.parse import unquote, urlsplit

from reader.errors import StorageError, UsageError
from reader.fsutil import atomic_path, atomic_write_bytes

#: content type by name ending; the first match wins (so ``.chapters.json`` before ``.json``)
CONTENT_TYPES: tuple[tuple[str, str], ...] = (
    (".mp3", "audio/mpeg"),
    (".xml", "application/rss+xml"),
    (".html", "text/html; charset=utf-8"),
    (".chapters.json", "application/json+chapters"),
    (".json", "application/json"),
    (".vtt", "text/vtt; charset=utf-8"),
    (".srt", "application/x-subrip"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".png", "image/png"),
)
DEFAULT_CONTENT_TYPE = "application/octet-stream"
S3_EXTRA_FIX = "pip install 'vnreader[s3]' (the S3 extra: boto3)"
_CHUNK = 1 << 20


def content_type_of(key: str) -> str:
    """The content type a published object gets, from its name (see :data:`CONTENT_TYPES`)."""
    name = key.lower()
    return next((t for suffix, t in CONTENT_TYPES if name.endswith(suffix)), DEFAULT_CONTENT_TYPE)


def sha256_of(data: bytes | Path) -> str:
    """Hex SHA-256 of bytes, or of a file read in 1 MiB blocks."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with open(data, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def check_key(key: str) -> str:
    """``key`` when it is a plain relative path (``a/b.mp3``); else ``UsageError``.

    Refused: empty, absolute, backslashes, NUL, and empty, ``.`` or ``..`` parts — a key
    never reaches outside the storage's root."""
    parts = key.split("/")
    if (not key or key.startswith("/") or "\\" in key or "\0" in key
            or any(p in ("", ".", "..") for p in parts)):
        raise UsageError(repr(key), "not a storage key (a relative path such as 'episode.mp3' or 'clips/ab/x.clip')",
                         fix="use '/'-separated names without '..', empty parts or a leading '/'")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object, as ``head`` and ``list`` see it."""

    key: str  #: storage; relative to the storage's root
    size: int  #: storage; bytes
    sha256: str | None = None  #: put (S3 metadata ``sha256``); None when unknown (an S3 listing)
    content_type: str | None = None  #: put, from the name; None when unknown


class Storage(Protocol):
    """What publishing and the shared clip cache need of a storage (see the module docstring)."""

    url: str

    def put(self, key: str, data: bytes | Path, *, content_type: str | None = None) -> ObjectInfo: ...
    def get(self, key: str) -> bytes | None: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def list(self, prefix: str = "") -> list[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...


def open_storage(url: str | os.PathLike[str]) -> LocalStorage | S3Storage:
    """The storage a URL names: ``s3://bucket/prefix`` → :class:`S3Storage`, a folder → :class:`LocalStorage`."""
    where = parse_url(url)
    if isinstance(where, Path):
        return LocalStorage(where)
    return S3Storage(*where)


def parse_url(url: str | os.PathLike[str]) -> Path | tuple[str, str]:
    """Check a storage URL without connecting: a folder's path, or ``(bucket, prefix)`` for ``s3://``.

    ``UsageError`` names the URL and the fix for an empty URL, an S3 URL without a bucket or
    with a query, a prefix that is not a plain key, or another scheme (``gs://``, ``http://``)."""
    text = os.fspath(url)
    if not text.strip():
        raise UsageError(repr(text), "empty storage URL", fix="give a folder or s3://bucket/prefix")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not bucket:
            raise UsageError(text, "no bucket in the S3 URL", fix="write s3://BUCKET/PREFIX, e.g. s3://podcast/vnreader")
        if parts.query or parts.fragment:
            raise UsageError(text, "an S3 URL takes no query or fragment", fix="write s3://BUCKET/PREFIX")
        if prefix:
            check_key(prefix)
        return bucket, prefix
    if scheme == "file":
        return Path(unquote(parts.path))
    if scheme and len(scheme) > 1:  # "C:" style drive letters are paths, not schemes
        raise UsageError(text, f"unknown storage URL scheme {scheme + '://'!r}",
                         fix="give a folder path, file:///path or s3://bucket/prefix")
    return Path(text).expanduser()


# ---------------------------------------------------------------- a folder
class LocalStorage:
    """Objects as files under ``root``; temp files (``.NAME.*.part``) and dot files are not objects."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.url = str(self.root)

    def path(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | Path, *, content_type: str | None = None) -> ObjectInfo:
        target = self.path(key)
        try:
            if isinstance(data, bytes):
                atomic_write_bytes(target, data)
            else:
                with atomic_path(target) as tmp:
                    shutil.copyfile(data, tmp)
        except OSError as e:
            raise StorageError(target, f"cannot write: {e.strerror or e}",
                               fix="check the folder's permissions and free space") from e
        return ObjectInfo(key, target.stat().st_size, sha256_of(data), content_type or content_type_of(key))

    def get(self, key: str) -> bytes | None:
        target = self.path(key)
        try:
            return target.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            raise StorageError(target, f"cannot read: {e.strerror or e}", fix="check the folder's permissions") from e

    def head(self, key: str) -> ObjectInfo | None:
        target = self.path(key)
        try:
            if not target.is_file():
                return None
            return ObjectInfo(key, target.stat().st_size, sha256_of(target), content_type_of(key))
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(target, f"cannot read: {e.strerror or e}", fix="check the folder's permissions") from e

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        base = self.root / check_key(prefix.rstrip("/")) if prefix.strip("/") else self.root
        out = []
        for path in local_files(base):
            key = path.relative_to(self.root).as_posix()
            with contextlib.suppress(FileNotFoundError):
                out.append(ObjectInfo(key, path.stat().st_size, None, content_type_of(key)))
        return sorted(out, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        target = self.path(key)
        try:
            target.unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(target, f"cannot delete: {e.strerror or e}", fix="check the folder's permissions") from e


def local_files(base: Path) -> Iterator[Path]:
    """Regular files under ``base``, skipping every name that starts with a dot (state, locks, temp files)."""
    if not base.is_dir():
        return
    for entry in os.scandir(base):
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from local_files(Path(entry.path))
        elif entry.is_file():
            yield Path(entry.path)


# ---------------------------------------------------------------- S3
def require_boto3(url: str) -> None:
    """``UsageError`` naming ``url`` (an ``s3://`` URL) when boto3, the S3 extra, is not installed.

    The daily run calls it before anything runs, so a missing extra never costs a run's work."""
    try:
        import boto3  # type: ignore[import-untyped]  # noqa: F401
        import botocore.config  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as e:
        raise UsageError(url, "S3 storage needs boto3, which is not installed", fix=S3_EXTRA_FIX) from e


def s3_client(url: str = "s3://"):
    """A boto3 S3 client configured from the environment (see the module docstring); ``url`` names
    the storage in the error when boto3 is missing."""
    require_boto3(url)
    import boto3
    from botocore.config import Config as BotoConfig
    endpoint = os.environ.get("VNREADER_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = BotoConfig(s3={"addressing_style": "path"} if endpoint else {}, connect_timeout=10, read_timeout=60,
                        retries={"max_attempts": 5, "mode": "standard"})
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=region, config=config)


class S3Storage:
    """Objects in an S3-compatible bucket under ``prefix``; the client is thread-safe and shared."""

    def __init__(self, bucket: str, prefix: str = "", client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.client = client if client is not None else s3_client(self.url)

    def key(self, key: str) -> str:
        """The bucket key of a storage key."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes | Path, *, content_type: str | None = None) -> ObjectInfo:
        full, digest = self.key(key), sha256_of(data)
        ctype = content_type or content_type_of(key)
        with self._errors("put", full):
            if isinstance(data, bytes):
                size = len(data)
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data, ContentType=ctype,
                                       Metadata={"sha256": digest})
            else:
                size = data.stat().st_size
                with open(data, "rb") as f:
                    self.client.put_object(Bucket=self.bucket, Key=full, Body=f, ContentLength=size,
                                           ContentType=ctype, Metadata={"sha256": digest})
        return ObjectInfo(key, size, digest, ctype)

    def get(self, key: str) -> bytes | None:
        full = self.key(key)
        with self._errors("get", full):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
            except self.client.exceptions.NoSuchKey:
                return None
            return body.read()

    def head(self, key: str) -> ObjectInfo | None:
        full = self.key(key)
        with self._errors("head", full, missing_ok=True) as missing:
            meta = self.client.head_object(Bucket=self.bucket, Key=full)
        if missing:
            return None
        return ObjectInfo(key, int(meta["ContentLength"]), (meta.get("Metadata") or {}).get("sha256"),
                          meta.get("ContentType"))

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        sub = prefix.strip("/")
        full = self.key(sub) + "/" if sub else (self.prefix + "/" if self.prefix else "")
        skip = len(self.prefix) + 1 if self.prefix else 0
        out = []
        with self._errors("list", full or "/"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", ()):
                    key = obj["Key"][skip:]
                    if key and not key.endswith("/"):
                        out.append(ObjectInfo(key, int(obj["Size"]), None, None))
        return sorted(out, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        full = self.key(key)
        with self._errors("delete", full):
            self.client.delete_object(Bucket=self.bucket, Key=full)

    @contextlib.contextmanager
    def _errors(self, op: str, key: str, missing_ok: bool = False) -> Iterator[builtins.list[bool]]:
        """Translate botocore's errors into ``StorageError``; with ``missing_ok`` a 404 sets the flag."""
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
            NoCredentialsError,
        )

        missing: builtins.list[bool] = []
        subject = f"s3://{self.bucket}/{key}"
        try:
            yield missing
        except NoCredentialsError as e:
            raise StorageError(subject, f"{op}: no S3 credentials found",
                               fix="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials)") from e
        except ClientError as e:
            err = e.response.get("Error", {})
            code = str(err.get("Code", ""))
            if missing_ok and code in ("404", "NoSuchKey", "NotFound"):
                missing.append(True)
                return
            raise StorageError(subject, f"{op}: {code or 'error'}: {err.get('Message') or e}", fix=_fix(code)) from e
        except BotoCoreError as e:
            raise StorageError(subject, f"{op}: {e}", fix="check the endpoint (VNREADER_S3_ENDPOINT or "
                               "AWS_ENDPOINT_URL) and the network") from e


def _fix(code: str) -> str:
    """The fix for an S3 error code."""
    if code == "NoSuchBucket":
        return "create the bucket, or correct the bucket in the storage URL"
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
        return ("check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the bucket's policy, and that the bucket "
                "exists (some servers answer AccessDenied for a missing one)")
    return StorageError.fix
