"""The wire format between the runtime and an execution environment: length-prefixed orjson frames.

Each frame is a 4-byte big-endian length followed by that many bytes of one orjson-encoded JSON
object with a ``type`` key. The parent writes ``init`` and ``invoke`` frames to the child's stdin;
the child answers on its (duplicated) stdout with ``ready``, ``init_error``, ``result``, ``error``
or ``oom`` frames. Handler output never travels here: it goes to a separate capture file.

This module is imported by the child worker, so it must stay light (no asyncio at import time).
"""

from __future__ import annotations

import os
import struct
from typing import Any

import orjson

#: Frames larger than this are refused: six times Lambda's 6 MB synchronous payload limit, so a
#: corrupt length prefix cannot make the reader allocate gigabytes.
MAX_FRAME_BYTES = 36 * 1024 * 1024

_HEADER = struct.Struct(">I")
#: orjson options shared by both sides; non-string keys are accepted like ``json.dumps`` does.
DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS


class ProtocolError(Exception):
    """A frame was malformed or the peer closed the pipe mid-frame."""


def encode(message: dict[str, Any]) -> bytes:
    """One complete frame (header and body) for ``message``."""
    body = orjson.dumps(message, option=DUMPS_OPTIONS)
    return _HEADER.pack(len(body)) + body


def decode_length(header: bytes) -> int:
    """The body length announced by a 4-byte header; rejects absurd sizes."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
    return int(length)


def decode_body(body: bytes) -> dict[str, Any]:
    """The message carried by a frame body; it must be a JSON object with a ``type``."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"frame body is not JSON: {exc}") from exc
    if not isinstance(message, dict) or "type" not in message:
        raise ProtocolError("frame body is not an object with a 'type'")
    return message


def read_frame(fd: int) -> dict[str, Any] | None:
    """Read one frame from a blocking file descriptor; ``None`` on a clean end of file."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(fd, decode_length(header))
    if body is None:
        raise ProtocolError("pipe closed in the middle of a frame")
    return decode_body(body)


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Write one frame to a blocking file descriptor."""
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            if remaining == size and size != 0:
                return None
            raise ProtocolError("pipe closed in the middle of a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
