"""Bounded polling with exponential backoff on throttling; clock and sleep injectable for tests."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from botocore.exceptions import ClientError

from infragen.deploy.aws_errors import is_throttling

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """How long to wait in total, how often to poll, and the clock to do it with."""

    timeout_s: float
    poll_interval_s: float = 2.0
    max_backoff_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random


class Deadline(Exception):
    """The bounded wait ran out; `last` is the last value fetched (None if none was)."""

    def __init__(self, last):
        super().__init__("deadline reached")
        self.last = last


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timing: Timing) -> T:
    """Call `fetch` until `done(result)`; throttled calls back off; raise Deadline after the timeout."""
    deadline = timing.clock() + timing.timeout_s
    throttled, last = 0, None
    while True:
        try:
            last = fetch()
        except ClientError as exc:
            if not is_throttling(exc):
                raise
            throttled += 1
            delay = backoff(throttled, timing)
        else:
            throttled = 0
            if done(last):
                return last
            delay = timing.poll_interval_s
        remaining = deadline - timing.clock()
        if remaining <= 0:
            raise Deadline(last)
        timing.sleep(min(delay, remaining))


def backoff(attempt: int, timing: Timing) -> float:
    """Delay after the n-th consecutive throttled call: doubling, capped, half of it random."""
    ceiling = min(timing.max_backoff_s, max(timing.poll_interval_s, 1.0) * 2**attempt)
    return ceiling / 2 + timing.jitter() * ceiling / 2
