"""When to try a failed delivery again: capped exponential backoff with jitter, and the
receiver's `Retry-After`. Pure: the caller passes `now` and the random source."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with proportional jitter.

    After failed attempt n (counting from 1) the nominal delay is
    ``min(cap, base * factor ** (n - 1))``; the delay used is drawn uniformly from
    ``[nominal * (1 - jitter), nominal]``. Jitter only ever shortens the wait, so the cap is a
    hard bound and no retry is later than the nominal schedule; it spreads the retries of
    messages that failed together (a robot's outage) so they do not return in one burst.
    After `max_attempts` attempts there is no next one: the message goes to the dead letters.
    """

    max_attempts: int = 8
    base: dt.timedelta = dt.timedelta(seconds=30)
    factor: float = 2.0
    cap: dt.timedelta = dt.timedelta(hours=6)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        problems = []
        if self.max_attempts < 1:
            problems.append(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base <= dt.timedelta(0):
            problems.append(f"base must be positive, got {self.base}")
        if self.factor < 1:
            problems.append(f"factor must be at least 1, got {self.factor}")
        if self.cap < self.base:
            problems.append(f"cap ({self.cap}) must not be shorter than base ({self.base})")
        if not 0 <= self.jitter < 1:
            problems.append(f"jitter must be in [0, 1), got {self.jitter}")
        if problems:
            raise ValueError("RetryPolicy invalid: " + "; ".join(problems))

    def nominal_delay(self, attempts: int) -> dt.timedelta:
        """The un-jittered wait after `attempts` failed attempts (1 = the first failed)."""
        if attempts < 1:
            raise ValueError(f"attempts counts failed attempts from 1, got {attempts}")
        # Grow step by step and stop at the cap: `factor ** attempts` overflows for large counts.
        wait = self.base
        for _ in range(attempts - 1):
            wait *= self.factor
            if wait >= self.cap:
                return self.cap
        return min(wait, self.cap)

    def delay(self, attempts: int, rng: random.Random) -> dt.timedelta | None:
        """The jittered wait after `attempts` failed attempts, or None when they are used up."""
        if attempts >= self.max_attempts:
            return None
        nominal = self.nominal_delay(attempts)
        return nominal * (1 - self.jitter * rng.random())

    def next_attempt(
        self, attempts: int, now: dt.datetime, rng: random.Random, *,
        retry_after: dt.timedelta | None = None,
    ) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts, or None to give up (dead letter).

        A `retry_after` the receiver asked for (see `parse_retry_after`) pushes the attempt
        later, never earlier, and is itself bounded by `cap` so a receiver cannot park a
        message for a year.
        """
        wait = self.delay(attempts, rng)
        if wait is None:
            return None
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return now + wait

    def schedule(self) -> list[dt.timedelta]:
        """The nominal waits between all attempts, for documentation and operators."""
        return [self.nominal_delay(n) for n in range(1, self.max_attempts)]


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """An HTTP `Retry-After` value (delay-seconds or an HTTP-date) as a wait from `now`.

    None when absent or unreadable; a date in the past gives a zero wait.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; `-0000` parses as naive.
        when = when.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), when - now)
