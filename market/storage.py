"""Where photo files live: a local folder (the default) or an S3-compatible bucket."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from market.extras import require_extra

# Long enough for any key we make; a bound keeps hostile keys from reaching the filesystem.
MAX_KEY_LENGTH = 1024
# Content-addressed keys never change their bytes, so caches may keep them forever.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
_TEMP_PREFIX = ".tmp-"


@runtime_checkable
class Storage(Protocol):
    """Byte storage addressed by slash-separated keys such as ``photos/ab/abcd…-400.webp``."""

    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``. If the key exists its bytes stay, but it counts as
        saved now, so garbage collection spares it until the row that uses it is committed.
        Raises OSError when the storage cannot take the write (a full disk, a bucket down)."""

    def open(self, key: str) -> bytes:
        """Return the bytes under ``key``; raises FileNotFoundError if there are none."""

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    def url(self, key: str) -> str | None:
        """A public URL for ``key``, or None when the app must serve it from ``/media/<key>``."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with ``prefix``."""

    def listing(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every stored key that starts with ``prefix``, with when it was last saved (UTC)."""

    def saved_at(self, key: str) -> datetime | None:
        """When ``key`` was last saved (UTC), or None if nothing is stored under it."""

    def purge_incomplete(self, before: datetime) -> int:
        """Remove what saves interrupted before ``before`` left behind; return how many."""


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key; raise ValueError otherwise.

    Keys become file paths in LocalStorage, so anything that could climb out of the root
    (``..``, absolute paths, backslashes read as separators on Windows, NUL) is refused.
    S3 applies the same rules so that both backends accept exactly the same keys.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("A storage key must be a non-empty string.")
    _check_key_text(key)
    if key.endswith("/"):
        raise ValueError(f"A storage key must not end with '/': {key!r}")
    return key


def _check_key_text(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError("A storage key is too long.")
    if key.startswith("/") or "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise ValueError(f"Unsafe storage key: {key!r}")
    segments = key.split("/")
    # A trailing "/" (allowed in prefixes) leaves one empty last segment; any other empty,
    # "." or ".." segment means the key is not in canonical form or tries to climb.
    if any(seg in ("", ".", "..") for seg in segments[:-1]) or segments[-1] in (".", ".."):
        raise ValueError(f"Unsafe storage key: {key!r}")
    if any(seg.startswith(_TEMP_PREFIX) for seg in segments):
        raise ValueError(f"Storage keys must not start with {_TEMP_PREFIX!r}: {key!r}")


def _check_prefix(prefix: str) -> str:
    if prefix:
        _check_key_text(prefix)
    return prefix


class LocalStorage:
    """Files under one folder; writes are atomic so a reader never sees half a photo."""

    public_url = None  # the app serves these files itself, at /media/<key>

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        if path.is_file():
            try:
                os.utime(path)
                return
            except FileNotFoundError:
                pass  # removed meanwhile: write it again
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: os.replace is atomic within one filesystem, so
        # concurrent readers see the old state or the whole file, and a crash leaves only a
        # temp file that keys() ignores.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            # mkstemp makes 0600 files; a web server in front may need to read them.
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (IsADirectoryError, NotADirectoryError) as exc:
            raise FileNotFoundError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def url(self, key: str) -> str | None:
        check_key(key)
        return None

    def keys(self, prefix: str = "") -> Iterator[str]:
        for key, _path in self._walk(prefix):
            yield key

    def listing(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        for key, path in self._walk(prefix):
            modified = _mtime(path)
            if modified is not None:
                yield key, modified

    def saved_at(self, key: str) -> datetime | None:
        return _mtime(self._path(key))

    def purge_incomplete(self, before: datetime) -> int:
        removed = 0
        for path in self.root.rglob(_TEMP_PREFIX + "*") if self.root.is_dir() else ():
            modified = _mtime(path)
            if path.is_file() and modified is not None and modified < before:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _walk(self, prefix: str) -> Iterator[tuple[str, Path]]:
        _check_prefix(prefix)
        # Start the walk at the deepest folder the prefix names, not at the root.
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(_TEMP_PREFIX))
            relative_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith(_TEMP_PREFIX):
                    continue
                key = name if relative_dir == "." else f"{relative_dir}/{name}"
                if key.startswith(prefix):
                    yield key, Path(dirpath, name)


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (FileNotFoundError, NotADirectoryError):
        return None


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Garage, R2, …).

    Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    instance roles, …), never from the storage URL, so the URL can be logged.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        public_url: str | None = None,
    ):
        require_extra("boto3", "s3", "MARKET_STORAGE_URL=s3://…")
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.public_url = public_url.rstrip("/") if public_url else None
        # Self-hosted servers (MinIO and friends) rarely have per-bucket DNS names.
        addressing = "path" if endpoint_url else "auto"
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(s3={"addressing_style": addressing}, retries={"mode": "standard"}),
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r})"

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")

    def save(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self.exists(key):
                # Copying an object onto itself is how S3 marks it as saved now.
                self._client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                    ContentType=content_type,
                    CacheControl=IMMUTABLE_CACHE_CONTROL,
                )
                return
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=IMMUTABLE_CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"could not save {key} in bucket {self.bucket}: {exc}") from exc

    def open(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        with response["Body"] as body:
            return body.read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the object existed.
        self._client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def url(self, key: str) -> str | None:
        check_key(key)
        if not self.public_url:
            return None
        return f"{self.public_url}/{quote(key)}"

    def keys(self, prefix: str = "") -> Iterator[str]:
        for key, _modified in self.listing(prefix):
            yield key

    def listing(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=_check_prefix(prefix)):
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]

    def saved_at(self, key: str) -> datetime | None:
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                return None
            raise
        return head["LastModified"]

    def purge_incomplete(self, before: datetime) -> int:
        # put_object stores a whole object or nothing: an interrupted save leaves no trace.
        return 0


_S3_OPTIONS = ("endpoint_url", "region", "public_url")


def storage_from_url(url: str) -> Storage:
    """Build the storage that MARKET_STORAGE_URL names.

    ``file:///abs/path`` is a local folder; ``s3://bucket?endpoint_url=…&region=…&public_url=…``
    is a bucket (all query options optional).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                f"Storage URL {url!r}: a file URL needs an absolute path with three slashes, "
                "like file:///srv/pasar/uploads."
            )
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"Storage URL {url!r}: the folder must be an absolute path.")
        return LocalStorage(Path(path))
    if scheme == "s3":
        bucket = parts.netloc
        if not bucket or "@" in bucket:
            raise ValueError(f"Storage URL {url!r}: name the bucket, like s3://pasar-photos.")
        if parts.path not in ("", "/"):
            raise ValueError(
                f"Storage URL {url!r}: key prefixes are not supported; use a bucket of its own."
            )
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
        unknown = sorted(set(query) - set(_S3_OPTIONS))
        if unknown:
            raise ValueError(
                f"Storage URL {url!r}: unknown option(s) {', '.join(unknown)}; "
                f"known options are {', '.join(_S3_OPTIONS)}."
            )
        options = {name: (query[name][-1] or None) for name in _S3_OPTIONS if name in query}
        return S3Storage(bucket, **options)
    raise ValueError(
        f"Storage URL {url!r}: unsupported scheme {parts.scheme!r}; "
        "use file:///absolute/folder or s3://bucket."
    )
