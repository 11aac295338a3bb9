"""The retry policy phase by phase against SNS's published delivery policies (the reference's
table in shared/reference/alerting.md §4.2), with every expected delay computed by hand."""

from __future__ import annotations

import itertools
import math

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.reasons import Reason, Verdict
from heron.monitor.notify.retry import (
    HTTP_TOTAL_CAP_S,
    SNS_EMAIL,
    SNS_HTTP_DEFAULT,
    RetryPolicy,
    parse_retry,
)
from heron.monitor.notify.routing import retry_decision

from .support import config


def test_sns_default_http_policy_is_three_retries_twenty_seconds_apart() -> None:
    # healthyRetryPolicy {numRetries 3, min/maxDelayTarget 20, every phase count 0, linear}:
    # all three retries are backoff retries from 20 s to 20 s.
    assert SNS_HTTP_DEFAULT.num_backoff_retries == 3
    assert [SNS_HTTP_DEFAULT.delay(n) for n in (1, 2, 3, 4)] == [20.0, 20.0, 20.0, None]
    assert SNS_HTTP_DEFAULT.total_s() == 60.0
    # Through the decision the deliverer takes after each failed attempt: 3 retries, then DLQ.
    failed = Outcome(False, "HTTP 503", status=503)
    at = [retry_decision(failed, n, SNS_HTTP_DEFAULT, 1000.0) for n in range(4)]
    assert [d.verdict for d in at] == [Verdict.RETRY] * 3 + [Verdict.DEAD]
    assert [d.until for d in at[:3]] == [1020.0, 1020.0, 1020.0]
    assert at[3].reason is Reason.EXHAUSTED and "after 3 retries" in at[3].detail


def test_customer_managed_email_policy_phase_by_phase() -> None:
    # 0 immediate; 2 pre-backoff 10 s apart; 10 backoff, exponential 10 s -> 600 s;
    # 38 post-backoff 600 s apart: 50 retries over six hours.
    p = SNS_EMAIL
    assert p.num_backoff_retries == 10
    assert [p.delay(1), p.delay(2)] == [10.0, 10.0]  # pre-backoff
    ratio = 60 ** (1 / 9)  # 600/10 over the 9 steps between the first and last backoff retry
    assert ratio == pytest.approx(1.57606, abs=1e-5)
    backoff = [p.delay(n) for n in range(3, 13)]
    expected = [10.0, 15.7606, 24.8397, 39.1487, 61.7003, 97.2436, 153.2620, 241.5500,
                380.6965, 600.0]  # fmt: skip
    assert backoff == pytest.approx(expected, abs=1e-3)
    assert [p.delay(n) for n in (13, 30, 50)] == [600.0, 600.0, 600.0]  # post-backoff
    assert p.delay(51) is None
    # 20 + 10(r^10 - 1)/(r - 1) + 38 * 600 = 20 + 1624.2 + 22800 s: "over 6 hours"
    assert p.total_s() == pytest.approx(24444.2, abs=0.5)
    assert 6 * 3600 < p.total_s() < 7 * 3600


def test_aws_managed_policy_phase_by_phase() -> None:
    # 3 immediate; 2 pre-backoff 1 s apart; 10 backoff exponential 1 s -> 20 s;
    # 100,000 post-backoff 20 s apart: 100,015 retries over 23 days.
    p = RetryPolicy(num_retries=100_015, num_no_delay_retries=3, num_min_delay_retries=2,
                    num_max_delay_retries=100_000, min_delay_s=1, max_delay_s=20,
                    backoff="exponential")  # fmt: skip
    assert [p.delay(n) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert [p.delay(4), p.delay(5)] == [1.0, 1.0]
    backoff = [p.delay(n) for n in range(6, 16)]
    r = 20 ** (1 / 9)
    assert backoff == pytest.approx([r**k for k in range(10)])
    assert backoff[0] == 1.0 and backoff[-1] == pytest.approx(20.0)
    assert [p.delay(16), p.delay(100_015), p.delay(100_016)] == [20.0, 20.0, None]
    days = p.total_s() / 86400
    assert 23 < days < 24  # 2,000,000 s of post-backoff alone is 23.1 days


#: The AWS documentation's backoff graph: 10 backoff retries from 5 s to 260 s.
GRAPH = {"num_retries": 10, "num_no_delay_retries": 0, "num_min_delay_retries": 0,
         "num_max_delay_retries": 0, "min_delay_s": 5, "max_delay_s": 260}  # fmt: skip


@pytest.mark.parametrize(
    ("backoff", "fourth", "seventh"),
    [
        ("linear", 5 + 255 * 3 / 9, 5 + 255 * 6 / 9),  # 90, 175: equal steps of 28.33 s
        ("arithmetic", 5 + 255 / 9, 5 + 255 * 4 / 9),  # 33.33, 118.33: (k/9)^2
        ("geometric", 5 + 255 / 27, 5 + 255 * 8 / 27),  # 14.44, 80.56: (k/9)^3
        ("exponential", 5 * 52 ** (1 / 3), 5 * 52 ** (2 / 3)),  # 18.66, 69.65: ratio 52^(1/9)
    ],
)
def test_each_backoff_function_runs_from_min_to_max(
    backoff: str, fourth: float, seventh: float
) -> None:
    p = RetryPolicy(**GRAPH, backoff=backoff)  # type: ignore[arg-type]
    delays = p.delays()
    assert delays[0] == 5.0 and delays[-1] == pytest.approx(260.0)
    assert delays[3] == pytest.approx(fourth) and delays[6] == pytest.approx(seventh)
    assert all(a < b for a, b in itertools.pairwise(delays))
    if backoff == "exponential":
        ratios = {round(b / a, 9) for a, b in itertools.pairwise(delays)}
        assert len(ratios) == 1 and math.isclose(ratios.pop(), 52 ** (1 / 9), rel_tol=1e-8)


def test_one_backoff_retry_waits_the_minimum() -> None:
    p = RetryPolicy(num_retries=1, num_no_delay_retries=0, num_min_delay_retries=0,
                    num_max_delay_retries=0, min_delay_s=7, max_delay_s=70)  # fmt: skip
    assert p.delays() == [7.0]


def test_herons_webhook_default_keeps_within_snss_http_limits() -> None:
    p = RetryPolicy()  # 1 immediate, 2 at 1 s, 12 exponential 1 s -> 300 s, 5 at 300 s
    assert p.delay(1) == 0.0 and [p.delay(2), p.delay(3)] == [1.0, 1.0]
    assert p.delay(4) == 1.0 and p.delay(15) == pytest.approx(300.0)
    assert p.delay(5) == pytest.approx(300 ** (1 / 11))
    assert [p.delay(16), p.delay(20), p.delay(21)] == [300.0, 300.0, None]
    r = 300 ** (1 / 11)
    assert p.total_s() == pytest.approx(2 + (r**12 - 1) / (r - 1) + 1500)  # 2,242 s
    assert p.total_s() <= HTTP_TOTAL_CAP_S


def test_http_policies_may_not_retry_for_more_than_an_hour_in_total() -> None:
    long = {"num_retries": 4, "num_no_delay_retries": 0, "num_min_delay_retries": 0,
            "num_max_delay_retries": 4, "min_delay_s": 1000, "max_delay_s": 1000}  # fmt: skip
    with pytest.raises(ConfigError, match=r"x: the retries add up to 4,000 s; SNS allows at most"):
        parse_retry(long, "x", RetryPolicy(), max_total_s=HTTP_TOTAL_CAP_S)
    assert parse_retry({**long, "num_retries": 3, "num_max_delay_retries": 3}, "x",
                       RetryPolicy(), max_total_s=HTTP_TOTAL_CAP_S).total_s() == 3000  # fmt: skip
    toml = (
        '[notify.channels.hook]\nprotocol = "https"\nurl = "https://example.com/h"\n'
        "retry = { num_retries = 4, num_max_delay_retries = 4, num_no_delay_retries = 0,"
        " num_min_delay_retries = 0, min_delay_s = 1000, max_delay_s = 1000 }\n"
    )
    with pytest.raises(ConfigError, match=r"notify\.channels\.hook\.retry: the retries add up"):
        config(toml)
    # SNS's email policy runs for hours: the HTTP/S limit does not apply to email.
    mail = config(
        '[notify.channels.m]\nprotocol = "email"\nhost = "localhost"\nfrom = "a@b.c"\n'
        'to = ["d@e.f"]\n'
    )
    assert mail.channels["m"].retry == SNS_EMAIL
