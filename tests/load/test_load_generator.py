"""The load generator against a real (fake) Heron served by uvicorn on a free port."""

from __future__ import annotations

import socket

import pytest
from fake_heron import Served

from heron.load.client import BAD_REQUESTS, INJECT_LATENCY_HEADER
from heron.load.generator import LoadError, is_loopback_url, run_load, validate_parameters
from heron.load.progress import Progress


async def test_short_run_counts_every_operation_and_message(served: Served) -> None:
    snapshots: list[Progress] = []
    summary = await run_load(
        served.url,
        users=6,
        rate=30,
        duration_s=2.0,
        ws_fraction=0.5,
        error_rate=0.2,
        progress=snapshots.append,
        progress_interval_s=0.5,
        seed=7,
    )

    assert summary.users == 6
    assert summary.ws_pairs == 3
    assert summary.scheduled == 60
    assert summary.skipped == 0
    assert summary.completed == 60  # every scheduled operation finished and was recorded once
    assert summary.error_count == 0, summary.errors
    # Every deliberate bad request was rejected with a 4xx and counted as expected.
    bad = [summary.operations[name] for name in BAD_REQUESTS if name in summary.operations]
    assert sum(op.count for op in bad) == summary.expected_errors > 0
    assert all(op.by_status == {"4xx": op.count} for op in bad)
    # Every WebSocket message reached its recipient and has a latency sample.
    assert summary.ws_sent > 0
    assert summary.ws_delivered == summary.ws_sent == summary.operations["ws_send"].count
    assert summary.ws_latency.count == summary.ws_sent
    assert 0 < summary.ws_latency.p50_ms <= summary.ws_latency.max_ms < 1000
    assert served.fake.ws_frames_received == summary.ws_sent
    # Sign-ups: the six users plus one per churn operation.
    churned = summary.operations.get("delete_user")
    assert summary.operations["signup"].count == 6 + (churned.count if churned else 0)
    # Progress was reported along the way and once at the end.
    assert len(snapshots) >= 3
    assert snapshots[-1].final and snapshots[-1].ops == summary.completed


async def test_the_schedule_holds_rate_times_duration_operations(served: Served) -> None:
    summary = await run_load(
        served.url, users=10, rate=100, duration_s=2.0, ws_fraction=0.3, seed=1
    )
    assert summary.error_count == 0, summary.errors
    # Achieved throughput is a benchmark figure, not a test: here only the schedule is checked.
    assert summary.scheduled == 200
    assert summary.completed + summary.skipped == summary.scheduled


async def test_latency_injection_is_sent_as_a_header(served: Served) -> None:
    await run_load(
        served.url, users=2, rate=5, duration_s=0.3, ws_fraction=0, latency_injection_ms=250
    )
    assert served.fake.headers_seen
    assert all(h.get(INJECT_LATENCY_HEADER) == "250" for h in served.fake.headers_seen)


async def test_server_errors_and_lost_messages_are_counted_by_kind(served: Served) -> None:
    served.fake.fail_history = True
    served.fake.deliver_ws = False
    summary = await run_load(
        served.url,
        users=4,
        rate=40,
        duration_s=1.0,
        ws_fraction=0.5,
        seed=3,
        delivery_timeout_s=0.2,
    )
    assert summary.errors["http_500"] == summary.operations["history"].count > 0
    assert summary.errors["ws_delivery_timeout"] == summary.ws_sent > 0
    assert summary.ws_delivered == 0


async def test_refused_websockets_leave_an_http_only_run_with_a_note(served: Served) -> None:
    served.fake.reject_ws = True
    summary = await run_load(served.url, users=4, rate=20, duration_s=0.5, ws_fraction=1.0)
    assert summary.ws_pairs == 0 and summary.ws_sent == 0
    assert summary.errors == {"ws_connect_failed": 4}
    assert summary.completed == 10  # the schedule still ran, on HTTP operations
    assert any("no WebSocket pair" in note for note in summary.notes)


async def test_unreachable_service_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the run: nothing listens there
    with pytest.raises(LoadError, match="heron up"):
        await run_load(f"http://127.0.0.1:{port}", users=2, rate=5, duration_s=1, ws_fraction=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"users": 0}, "users"),
        ({"rate": 0.0}, "rate"),
        ({"rate": float("nan")}, "rate"),
        ({"duration_s": -1.0}, "duration"),
        ({"ws_fraction": 1.5}, "ws-fraction"),
        ({"error_rate": -0.1}, "error-rate"),
        ({"latency_injection_ms": -5.0}, "latency"),
        ({"max_in_flight": 0}, "in-flight"),
    ],
)
def test_bad_parameters_are_rejected_by_name(change: dict[str, float], message: str) -> None:
    params = {
        "users": 2,
        "rate": 1.0,
        "duration_s": 1.0,
        "ws_fraction": 0.5,
        "error_rate": 0.0,
        "latency_injection_ms": 0.0,
        "max_in_flight": 10,
    } | change
    with pytest.raises(LoadError, match=message):
        validate_parameters("http://127.0.0.1:8080", **params)  # type: ignore[arg-type]


def test_bad_url_is_rejected() -> None:
    with pytest.raises(LoadError, match="url"):
        validate_parameters(
            "ftp://x",
            users=1,
            rate=1,
            duration_s=1,
            ws_fraction=0,
            error_rate=0,
            latency_injection_ms=0,
            max_in_flight=1,
        )


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.3.2.1", True),
        ("http://localhost:9000", True),
        ("http://[::1]:8080", True),
        ("http://10.0.0.1:8080", False),
        ("https://example.com", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
