"""The frame format and the worker's handler loading, in-process."""

from __future__ import annotations

import os

import pytest

from heron.runtime import protocol, worker
from heron.runtime.context import LambdaContext


def test_frames_round_trip_through_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    try:
        protocol.write_frame(write_fd, {"type": "invoke", "event": {"k": [1, "é"], 3: "x"}})
        os.close(write_fd)
        write_fd = -1
        assert protocol.read_frame(read_fd) == {
            "type": "invoke",
            "event": {"k": [1, "é"], "3": "x"},
        }
        assert protocol.read_frame(read_fd) is None
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def test_truncated_frame_is_a_protocol_error() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, protocol.encode({"type": "x"})[:-2])
    os.close(write_fd)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_frame(read_fd)
    os.close(read_fd)


def test_absurd_lengths_and_non_objects_are_refused() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_length((protocol.MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_body(b"[1, 2]")
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_body(b"{not json")


@pytest.mark.parametrize(
    ("spec", "error_type", "message"),
    [
        (
            "nodots",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)",
        ),
        (
            "heron_nope_module.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'heron_nope_module': No module named 'heron_nope_module'",
        ),
        (
            "json.no_such_function",
            "Runtime.HandlerNotFound",
            "Handler 'no_such_function' missing on module 'json'",
        ),
    ],
)
def test_handler_loading_failures_use_lambdas_error_types(
    spec: str, error_type: str, message: str
) -> None:
    with pytest.raises(worker.InitFailure) as failure:
        worker.load_handler(spec)
    assert failure.value.error["errorType"] == error_type
    assert failure.value.error["errorMessage"] == message


def test_both_handler_spellings_load() -> None:
    assert worker.load_handler("json.dumps") is worker.load_handler("json:dumps")


def test_marshal_error_reads_like_pythons_json_error() -> None:
    error = worker.marshal_error(TypeError("Type is not JSON serializable: decimal.Decimal"))
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type Decimal is not JSON serializable"
    )


def test_remaining_time_counts_down_and_never_goes_negative() -> None:
    import time

    now_ms = int(time.time() * 1000)
    live = LambdaContext(
        aws_request_id="r",
        deadline_ms=now_ms + 2000,
        function_name="f",
        invoked_function_arn="arn",
        memory_limit_in_mb=128,
        log_group_name="/aws/lambda/f",
        log_stream_name="s",
    )
    expired = LambdaContext(
        aws_request_id="r",
        deadline_ms=now_ms - 5000,
        function_name="f",
        invoked_function_arn="arn",
        memory_limit_in_mb=128,
        log_group_name="/aws/lambda/f",
        log_stream_name="s",
    )
    assert 1900 <= live.get_remaining_time_in_millis() <= 2000
    assert expired.get_remaining_time_in_millis() == 0


def test_peak_rss_is_this_process_high_water_mark() -> None:
    assert worker.peak_rss_kb() >= worker.current_rss_kb() > 0


def _pid_in_status() -> int:
    data = worker._STATUS.read()
    start = data.index(b"\nPid:") + 5
    return int(data[start : data.index(b"\n", start)])


def test_the_kept_proc_file_follows_a_fork_and_survives_being_closed() -> None:
    assert _pid_in_status() == os.getpid()
    fd = worker._STATUS._fd
    assert fd is not None
    os.close(fd)  # as a handler's os.closerange would
    assert _pid_in_status() == os.getpid() and worker.peak_rss_kb() > 0
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports the pid its status file shows, then leaves at once
        try:
            os.write(write_end, str(_pid_in_status()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    seen = int(os.read(read_end, 64))
    os.close(read_end)
    os.waitpid(child, 0)
    assert seen == child
