"""The retry policy: delays grow, stop at the cap, are jittered within bounds, end after
`max_attempts`, and make room for a receiver's Retry-After. No clock: `now` is passed in."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from deadlines.retry import RetryPolicy, parse_retry_after

NOW = dt.datetime(2023, 6, 28, 1, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


def test_the_default_schedule_doubles_from_thirty_seconds() -> None:
    policy = RetryPolicy()
    assert policy.schedule() == [30 * S, 60 * S, 120 * S, 240 * S, 480 * S, 960 * S, 1920 * S]


def test_without_jitter_each_wait_is_the_nominal_one() -> None:
    policy = RetryPolicy(jitter=0)
    rng = random.Random(1)
    assert [policy.next_attempt(n, NOW, rng) for n in (1, 2, 3)] == [
        NOW + 30 * S, NOW + 60 * S, NOW + 120 * S]


def test_delays_stop_growing_at_the_cap() -> None:
    policy = RetryPolicy(max_attempts=40, jitter=0)
    delays = policy.schedule()
    assert delays[9] == 15360 * S  # 30 s · 2⁹, 4 h 16 min
    assert delays[10] == dt.timedelta(hours=6)  # 30 s · 2¹⁰ would be 8 h 32 min
    assert set(delays[10:]) == {dt.timedelta(hours=6)}
    assert all(a <= b for a, b in itertools.pairwise(delays))
    # No overflow however many attempts are counted.
    assert RetryPolicy(max_attempts=10_000, factor=10).nominal_delay(5_000) == dt.timedelta(
        hours=6)


def test_jitter_stays_within_its_bounds_and_spreads() -> None:
    policy = RetryPolicy(max_attempts=20)
    rng = random.Random(20230628)
    for attempts in range(1, 20):
        nominal = policy.nominal_delay(attempts)
        waits = [policy.next_attempt(attempts, NOW, rng) for _ in range(200)]
        assert all(w is not None and NOW + nominal * 0.8 <= w <= NOW + nominal for w in waits)
        assert len(set(waits)) > 150  # spread, not a few fixed values
    capped = [policy.delay(15, rng) for _ in range(200)]
    assert max(d for d in capped if d) <= policy.cap


def test_a_seeded_random_gives_the_same_schedule() -> None:
    policy = RetryPolicy()
    first = [policy.next_attempt(n, NOW, random.Random(7)) for n in range(1, 8)]
    again = [policy.next_attempt(n, NOW, random.Random(7)) for n in range(1, 8)]
    assert first == again
    assert first[0] == NOW + 30 * S * (1 - 0.2 * random.Random(7).random())


def test_it_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(3)
    assert policy.next_attempt(1, NOW, rng) is not None
    assert policy.next_attempt(2, NOW, rng) is not None
    assert policy.next_attempt(3, NOW, rng) is None
    assert policy.next_attempt(4, NOW, rng) is None
    assert RetryPolicy(max_attempts=1).next_attempt(1, NOW, rng) is None
    assert len(RetryPolicy().schedule()) == 7  # eight attempts, seven waits between them


def test_retry_after_pushes_later_never_earlier_and_is_capped() -> None:
    policy = RetryPolicy(jitter=0)
    rng = random.Random(0)
    assert policy.next_attempt(1, NOW, rng, retry_after=120 * S) == NOW + 120 * S
    assert policy.next_attempt(3, NOW, rng, retry_after=5 * S) == NOW + 120 * S
    assert policy.next_attempt(1, NOW, rng, retry_after=dt.timedelta(days=365)) == (
        NOW + dt.timedelta(hours=6))
    assert policy.next_attempt(8, NOW, rng, retry_after=S) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == 120 * S
    assert parse_retry_after(" 0 ", NOW) == dt.timedelta(0)
    assert parse_retry_after("Wed, 28 Jun 2023 01:05:00 GMT", NOW) == 300 * S
    assert parse_retry_after("Wed, 28 Jun 2023 01:05:00 -0000", NOW) == 300 * S
    assert parse_retry_after("Wed, 28 Jun 2023 00:00:00 GMT", NOW) == dt.timedelta(0)
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("-5", NOW) is None


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"max_attempts": 0}, "max_attempts must be at least 1"),
     ({"base": dt.timedelta(0)}, "base must be positive"),
     ({"factor": 0.5}, "factor must be at least 1"),
     ({"cap": S}, "cap (0:00:01) must not be shorter than base"),
     ({"jitter": 1.0}, "jitter must be in [0, 1)")],
)
def test_a_policy_that_makes_no_sense_is_refused(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(**options)  # type: ignore[arg-type]
    assert problem in str(caught.value)


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="counts failed attempts from 1"):
        RetryPolicy().nominal_delay(0)
