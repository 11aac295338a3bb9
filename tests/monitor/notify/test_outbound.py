"""The notifier's shared HTTPS client: made on first use, once, and closed only by its maker."""

from __future__ import annotations

import threading

import httpx
import pytest

from heron.monitor.notify.channels.outbound import OutboundHttp


def test_one_client_is_made_for_every_thread_that_asks() -> None:
    outbound = OutboundHttp()
    seen: list[httpx.Client] = []
    threads = [threading.Thread(target=lambda: seen.append(outbound.client)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(client is seen[0] for client in seen)
    outbound.close()
    assert seen[0].is_closed


def test_a_given_client_is_used_and_left_open() -> None:
    given = httpx.Client()
    outbound = OutboundHttp(given)
    assert outbound.client is given
    outbound.close()
    assert not given.is_closed
    given.close()


@pytest.mark.parametrize("used", [False, True])
def test_no_request_goes_out_after_close(used: bool) -> None:
    outbound = OutboundHttp()
    if used:
        _ = outbound.client
    outbound.close()
    with pytest.raises(RuntimeError, match="closed"):
        _ = outbound.client
