"""The code package Lambda runs: Heron's own source, plus an optional directory of dependencies.

Lambda's Python runtime already has boto3. Heron's other runtime dependencies (orjson, numpy,
httpx, ...) contain compiled code and must be built for Lambda's platform, so they are prepared
separately (``pip install --platform manylinux2014_x86_64 --only-binary=:all: --target DIR``,
see docs/deploy.md) and passed as ``deps_dir``. The zip is deterministic (sorted entries, fixed
timestamps), so an unchanged package has the same key and is not uploaded twice.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import heron
from heron.deploy.names import DeployError

_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Lambda's limit for an unzipped deployment package (bytes).
MAX_UNZIPPED = 250 * 1024 * 1024


def _files(root: Path, base: Path) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            out.append((path.relative_to(base).as_posix(), path))
    return out


def build_package(deps_dir: Path | None = None) -> bytes:
    """The deployment package as zip bytes."""
    source = Path(heron.__file__).resolve().parent
    entries = _files(source, source.parent)
    if deps_dir is not None:
        if not deps_dir.is_dir():
            raise DeployError(f"dependencies directory {deps_dir} does not exist")
        entries += [(n, p) for n, p in _files(deps_dir, deps_dir) if not n.startswith("heron/")]
    size = sum(p.stat().st_size for _, p in entries)
    if size > MAX_UNZIPPED:
        raise DeployError(f"the package is {size} bytes unzipped; Lambda allows {MAX_UNZIPPED}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package_key(data: bytes) -> str:
    """The S3 key of a package: its content hash, so identical code is uploaded once."""
    return f"heron/code/{hashlib.sha256(data).hexdigest()[:24]}.zip"
