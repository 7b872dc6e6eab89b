"""The shared watchdog: watched connections are interrupted once per overdue query, never after it ended."""

from __future__ import annotations

import math
import threading
import time

from sqlrl.sandbox.watchdog import begin_query, end_query, watchdog


class Target:
    def __init__(self) -> None:
        self.deadline = math.inf
        self.guard = threading.Lock()
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1


def _wait_for(condition, seconds: float = 2.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_watched_query_is_interrupted_once_past_its_deadline_and_grace():
    dog, target = watchdog(), Target()
    dog.watch(target, 0.05)
    try:
        assert _wait_for(lambda: dog.asleep)  # nothing runs: the thread sleeps instead of polling
        begin_query(target, time.monotonic() + 0.1)  # wakes it
        assert _wait_for(lambda: target.interrupts == 1)
        time.sleep(0.2)
        assert target.interrupts == 1  # once per deadline, however long the engine takes to stop
        end_query(target)
        begin_query(target, time.monotonic() + 0.1)
        end_query(target)  # finished in time
        time.sleep(0.3)
        assert target.interrupts == 1
        begin_query(target, time.monotonic() + 0.05)  # a new overdue query gets its own interrupt
        assert _wait_for(lambda: target.interrupts == 2)
        end_query(target)
    finally:
        dog.unwatch(target)


def test_an_interrupt_never_reaches_a_query_that_ended():
    dog, target = watchdog(), Target()
    dog.watch(target, 0.0)
    try:
        for _ in range(50):  # queries that end right at their deadline, racing the watchdog's look
            begin_query(target, time.monotonic() + 0.002)
            time.sleep(0.002)
            with target.guard:
                before = target.interrupts
                target.deadline = math.inf
            time.sleep(0.001)
            assert target.interrupts == before  # nothing fired after the deadline was cleared
    finally:
        dog.unwatch(target)
