"""`cxbill replay --chaos SEED`: deliver events the way AWS really does (SPEC 10, R-ingest-7).

A plain replay hands each upload's event to `ingest` at once, in key order, and each close
message to `close` in the order the daily run sent it. AWS promises neither: S3 notifications
through a standard queue arrive unordered and sometimes twice, a FIFO queue keeps only each
group's order, and a Lambda can die at any instruction and have its batch delivered again after
the visibility timeout. `Chaos` does all of that, drawn from one `random.Random(seed)`, so a
seed replays the same faults:

* ingest: a day's uploads are all put in the bucket first (event times stamped as a plain replay
  stamps them), then their notifications are delivered in a shuffled order, some twice (the
  same SQS message again, or S3 sending the event twice as a new message), duplicates
  interleaved with the rest, in random batch sizes;
* close: the day's messages interleave across orgs at random (each org's group keeps its order,
  as SQS FIFO does) and some are delivered twice;
* crashes: an invocation may die at a chosen AWS call (`BaseClient._make_api_call`, which boto3
  and PynamoDB both go through), before the call is sent or after it took effect. The crash is
  a `BaseException`, so no `except Exception` runs (Powertools' idempotency would delete its
  in-progress record on an ordinary exception; a dead process deletes nothing). A crashed
  invocation ran with no time left (`get_remaining_time_in_millis() == 0`), so the in-progress
  record it may leave expires at once: the redelivery finds it expired, as a redelivery after
  the visibility timeout does in AWS. A message takes part in at most `max_crashes` crashed
  invocations: chaos alone never dead-letters anything.

Everything of a day, retries included, is delivered before that day's daily run; every close
message before the next day. The replay's outputs must not change (R-ingest-7).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

RETRIES = 3  # ordinary failures of one message before it is dead-lettered (as runtime.RETRIES)


class Crash(BaseException):
    """An injected crash: the Lambda's process died. Not an `Exception`, so nothing in the
    function catches it, cleans up or reports a partial batch."""


@dataclass(frozen=True)
class CrashPoint:
    call: int  # the invocation's n-th AWS call (1-based)
    after: bool  # the call took effect before the process died

    def __str__(self) -> str:
        return f"{'after' if self.after else 'before'} call {self.call}"


@dataclass
class CallTap:
    """Counts (and names) an invocation's AWS calls; crashes at `point` if it is reached.

    Once crashed, the process is dead in every thread: a call made after the crash point (say
    by a transfer thread of `upload_fileobj`, whose pool would swallow the crash) raises too,
    and an invocation that returns anyway is turned into the crash it was."""

    point: CrashPoint | None = None
    calls: list[str] = field(default_factory=list)
    fired: str | None = None  # "<service>.<Operation>" the crash hit

    @contextmanager
    def installed(self) -> Iterator[CallTap]:
        original = BaseClient._make_api_call
        tap = self

        def make_api_call(client: Any, operation_name: str, api_params: dict) -> Any:
            name = f"{client.meta.service_model.service_name}.{operation_name}"
            if tap.fired is not None:
                raise Crash(f"{name} after the process died at {tap.fired}")
            tap.calls.append(name)
            n = len(tap.calls)
            hit = tap.point is not None and tap.point.call == n and tap.fired is None
            if hit and not tap.point.after:  # type: ignore[union-attr]
                tap.fired = name
                raise Crash(f"injected crash before {name} (call {n})")
            try:
                result = original(client, operation_name, api_params)
            except Exception:
                if hit:  # the call was answered (with an error); the process dies anyway
                    tap.fired = name
                    raise Crash(f"injected crash after {name} (call {n})") from None
                raise
            if hit:
                tap.fired = name
                raise Crash(f"injected crash after {name} (call {n})")
            return result

        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]
        if self.fired is not None:  # the crash was swallowed (by a thread pool): still dead
            raise Crash(f"injected crash {self.point} ({self.fired})")


@dataclass
class Message:
    """One SQS message as the event source mapping hands it to a function."""

    record: dict  # the SQS record of the Lambda event
    order: int  # its position in a plain replay's delivery (reorderings are counted against it)
    copy: int = 0  # 0 the original; n the n-th extra delivery

    @property
    def id(self) -> str:
        return self.record["messageId"]

    @property
    def group(self) -> str:
        return self.record.get("attributes", {}).get("MessageGroupId", "")


# What one invocation does: (function name, event, context remaining ms) -> failed message ids.
Invoke = Callable[[str, dict, int], set[str]]


@dataclass
class ChaosStats:
    seed: int
    invocations: int = 0
    deliveries: int = 0  # messages handed to a function: every copy and every retry
    duplicates: int = 0  # extra copies delivered on purpose
    reordered: int = 0  # pairs of messages first delivered in the other order than plainly
    crashes_before: int = 0
    crashes_after: int = 0
    redelivered: int = 0  # messages delivered again because their invocation crashed
    failures: int = 0  # ordinary failures (batchItemFailures), retried as SQS would
    dead_letters: int = 0
    crash_sites: Counter[str] = field(default_factory=Counter)  # "<function> <when> <call>"
    calls_seen: Counter[str] = field(default_factory=Counter)  # max AWS calls per function

    @property
    def crashes(self) -> int:
        return self.crashes_before + self.crashes_after

    def as_json(self) -> dict:
        return {
            "seed": self.seed,
            "invocations": self.invocations,
            "deliveries": self.deliveries,
            "duplicates": self.duplicates,
            "reordered": self.reordered,
            "crashes": {
                "injected": self.crashes,
                "before": self.crashes_before,
                "after": self.crashes_after,
            },
            "redelivered_after_crash": self.redelivered,
        }


class Chaos:
    """Seeded delivery faults. `deliver_uploads` / `deliver_closes` take what a queue holds
    and hand it to the function through `invoke`, returning when everything succeeded or was
    dead-lettered for an ordinary failure."""

    def __init__(
        self,
        seed: int,
        *,
        duplicate_rate: float = 0.3,
        crash_rate: float = 0.3,
        max_crashes: int = 2,
        max_batch: int = 10,
        reorder: bool = True,
    ):
        """`reorder=False` keeps the plain replay's order (duplicates follow their original
        at once): crashes and duplicates alone, for telling them apart from ordering faults."""
        self.seed = seed
        self.reorder = reorder
        self.rng = random.Random(seed)
        self.duplicate_rate = duplicate_rate
        self.crash_rate = crash_rate
        self.max_crashes = max_crashes
        self.max_batch = max_batch
        self.stats = ChaosStats(seed)
        self._crashes: Counter[str] = Counter()  # per message id
        self._failures: Counter[str] = Counter()
        self.dead_lettered: list[Message] = []

    # -- what to deliver --
    def deliver_uploads(self, messages: list[dict], invoke: Invoke) -> None:
        """A standard queue: any order, some messages twice, random batches."""
        queue = [Message(m, i) for i, m in enumerate(messages)]
        if self.reorder:
            self.rng.shuffle(queue)
        for original in list(queue):
            if self.rng.random() < self.duplicate_rate:
                record = dict(original.record)
                if self.rng.random() < 0.5:  # S3 sent the event twice: a message of its own
                    record["messageId"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                copy = Message(record, original.order, copy=1)
                # anywhere after the original: interleaved with the rest
                after = queue.index(original) + 1
                at = self.rng.randint(after, len(queue)) if self.reorder else after
                queue.insert(at, copy)
                self.stats.duplicates += 1
        first: list[int] = []
        seen: set[int] = set()
        while queue:
            batch = self._take(queue)
            for m in batch:
                if m.order not in seen:
                    seen.add(m.order)
                    first.append(m.order)
            back = self._invoke("ingest", batch, invoke)  # again after the visibility timeout
            if not self.reorder:
                queue[:0] = back
            for m in back if self.reorder else ():
                queue.insert(self.rng.randint(0, len(queue)), m)
        self.stats.reordered += _inversions(first)

    def deliver_closes(self, messages: list[dict], invoke: Invoke) -> None:
        """A FIFO queue: groups interleave at random, each group in order; some twice."""
        groups: dict[str, deque[Message]] = {}
        for i, m in enumerate(messages):
            message = Message(m, i)
            group = groups.setdefault(message.group, deque())
            group.append(message)
            if self.rng.random() < self.duplicate_rate:  # processed, but not deleted in time
                group.append(Message(m, i, copy=1))
                self.stats.duplicates += 1
        first: list[int] = []
        seen: set[int] = set()
        while any(groups.values()):
            size = self.rng.randint(1, self.max_batch)
            batch: list[Message] = []
            open_groups = [g for g, q in groups.items() if q]
            while len(batch) < size and open_groups:
                if self.reorder:
                    g = self.rng.choice(open_groups)
                else:  # the plain order: the group whose head was sent first
                    g = min(open_groups, key=lambda g: groups[g][0].order)
                if groups[g][0].id in {m.id for m in batch}:  # a copy waits for the next batch
                    open_groups.remove(g)
                    continue
                batch.append(groups[g].popleft())
                if not groups[g]:
                    open_groups.remove(g)
            for m in batch:
                if m.order not in seen:
                    seen.add(m.order)
                    first.append(m.order)
            back = self._invoke("close", batch, invoke)
            for m in reversed(back):  # the group is blocked until they succeed: first again
                groups[m.group].appendleft(m)
        self.stats.reordered += _inversions(first)

    def run_once(self, name: str, invoke: Invoke, key: str) -> None:
        """A scheduled invocation (the daily run): `invoke` sends its own event; a crash is
        retried with the same event, as the schedule's retry policy would."""
        message = Message({"messageId": key, "body": ""}, 0)
        while self._invoke(name, [message], invoke):
            pass

    # -- one invocation --
    def _take(self, queue: list[Message]) -> list[Message]:
        size = self.rng.randint(1, self.max_batch)
        batch: list[Message] = []
        while queue and len(batch) < size and queue[0].id not in {m.id for m in batch}:
            batch.append(queue.pop(0))
        return batch

    def crash_point(self, name: str) -> CrashPoint | None:
        """Whether (and where) the next invocation of `name` dies: one in `crash_rate`, at a
        call drawn up to the most calls an invocation of `name` has made so far."""
        if self.rng.random() >= self.crash_rate:
            return None
        calls = max(self.stats.calls_seen[name], 4)
        return CrashPoint(self.rng.randint(1, calls), self.rng.random() < 0.5)

    def _invoke(self, name: str, batch: list[Message], invoke: Invoke) -> list[Message]:
        """Deliver `batch` once; returns what goes back to the queue."""
        point = None
        if all(self._crashes[m.id] < self.max_crashes for m in batch):
            point = self.crash_point(name)
        tap = CallTap(point)
        self.stats.invocations += 1
        self.stats.deliveries += len(batch)
        event = {"Records": [m.record for m in batch]}
        try:
            with tap.installed():
                failed = invoke(name, event, 0 if point else 900_000)
        except Crash:
            assert point is not None
            if point.after:
                self.stats.crashes_after += 1
            else:
                self.stats.crashes_before += 1
            when = "after" if point.after else "before"
            self.stats.crash_sites[f"{name} {when} call {point.call} {tap.fired}"] += 1
            self.stats.redelivered += len(batch)
            for m in batch:
                self._crashes[m.id] += 1
            # The in-progress record of the dead invocation expired at its start (no time
            # left); make sure the clock Powertools compares with has moved past it.
            time.sleep(0.002)
            return batch
        self.stats.calls_seen[name] = max(self.stats.calls_seen[name], len(tap.calls))
        back: list[Message] = []
        first_failure = True
        for m in batch:
            if m.id not in failed:
                continue
            # A FIFO batch fails whole after its first failure; only that one really failed.
            if name != "close" or first_failure:
                self._failures[m.id] += 1
                self.stats.failures += 1
            first_failure = False
            if self._failures[m.id] >= RETRIES:
                self.dead_lettered.append(m)
                self.stats.dead_letters += 1
            else:
                back.append(m)
        return back


def _inversions(order: list[int]) -> int:
    return sum(1 for i, a in enumerate(order) for b in order[i + 1 :] if a > b)
