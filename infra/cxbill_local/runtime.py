"""The local runtime: what AWS would do around the functions, done on a simulated clock.

moto runs no Lambda code without Docker and never fires schedules, so this module delivers the
events itself, in the shapes AWS sends: S3 -> ingest queue -> `functions/ingest`, the 00:30 UTC
schedule -> `functions/daily` -> close queue -> `functions/close`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3

from cxbill.jobs import wiring

from .stack import ACCOUNT_ID, LocalStack, build_stack

if TYPE_CHECKING:
    from .chaos import Chaos

RETRIES = 3  # deliveries of a failing message before it is dead-lettered (locally)
REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO_ROOT / "functions"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "cxbill",
    "POWERTOOLS_METRICS_DISABLED": "true",  # no CloudWatch here: keep the console for people
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py as a module of its own (every function's file is app.py)."""
    path = FUNCTIONS / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"cxbill_function_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class LambdaContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 1769
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    remaining_ms: int = 900_000  # 0: an invocation that will not finish (chaos crashes it)

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class LocalCloud:
    """The stack on moto plus the event delivery AWS would do; see `local_cloud()`."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.s3 = boto3.client("s3", region_name=stack.region, endpoint_url=stack.endpoint_url)
        self.sqs = boto3.client("sqs", region_name=stack.region, endpoint_url=stack.endpoint_url)
        self.functions = {name: load_function(name) for name in ("ingest", "daily", "close", "api")}
        self._uploads_today = 0
        self._clock = datetime(2000, 1, 1)
        self._event_times: dict[tuple[str, str], tuple[datetime, str | None]] = {}
        self.upload_versions: dict[str, list[str]] = {}  # each key's versions, in upload order
        self.dead_letters: list[dict] = []  # what the DLQs would hold
        self.wall_clock = False  # `serve`: uploads happen now, not on a simulated day
        self.chaos: Chaos | None = None  # `replay --chaos`: deliveries the way AWS does them

    # -- the clock --
    def set_day(self, day: date) -> None:
        """Move the clock to `day`; uploads made later the same day still come later."""
        clock = datetime(day.year, day.month, day.day)
        if clock != self._clock:
            self._clock, self._uploads_today = clock, 0

    # -- S3 -> SQS -> ingest --
    def upload(self, key: str, body: bytes) -> None:
        """Put an object in the upload bucket and deliver the notification to `ingest`."""
        self.put_upload(key, body)
        self.deliver_uploads()

    def put_upload(self, key: str, body: bytes) -> None:
        """Put an object in the upload bucket; its notification waits in the ingest queue.
        Its event time is stamped now: uploads of one day are 1 ms apart, in the order made."""
        put = self.s3.put_object(Bucket=self.stack.upload_bucket, Key=key, Body=body)
        if not self.wall_clock:
            at = self._clock + timedelta(milliseconds=self._uploads_today)
            self._uploads_today += 1
            self._event_times[(key, put["ETag"].strip('"'))] = (at, put.get("VersionId"))
        self.upload_versions.setdefault(key, []).append(put.get("VersionId") or "null")

    def deliver_uploads(self) -> None:
        if self.chaos is not None:
            self._chaos_deliver_uploads(self.chaos)
            return
        for messages in self._receive(self.stack.ingest_queue_url):
            records = []
            for message in messages:
                body = json.loads(message["Body"])
                if body.get("Event") == "s3:TestEvent":
                    self._delete(self.stack.ingest_queue_url, [message])
                    continue
                records.append(self._sqs_record(message, self._stamped(body), "IngestQueue"))
            if records:
                self._invoke("ingest", {"Records": records}, self.stack.ingest_queue_url, messages)

    def _stamped(self, s3_event: dict) -> dict:
        """moto stamps events with the wall clock; the simulated clock is the one that counts:
        the time `put_upload` stamped (uploads of one day are 1 ms apart, in the order they
        were made), whenever the event is delivered."""
        for record in s3_event.get("Records", []):
            obj = record["s3"]["object"]
            stamp = self._event_times.get((unquote_plus(obj["key"]), obj.get("eTag", "")))
            if stamp and stamp[1] and "versionId" not in obj:
                obj["versionId"] = stamp[1]
            self._versioned(record["s3"])
            if self.wall_clock:
                continue
            if stamp is None:  # not put through put_upload: stamped as it is delivered
                at = self._clock + timedelta(milliseconds=self._uploads_today)
                self._uploads_today += 1
            else:
                at = stamp[0]
            record["eventTime"] = (
                at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
            )
        return s3_event

    def _versioned(self, s3: dict) -> None:
        """S3 names the object's version in events from a versioned bucket; moto leaves it out."""
        obj = s3["object"]
        if "versionId" not in obj:
            head = self.s3.head_object(Bucket=s3["bucket"]["name"], Key=unquote_plus(obj["key"]))
            if head.get("VersionId") and head["ETag"].strip('"') == obj.get("eTag"):
                obj["versionId"] = head["VersionId"]

    # -- schedule -> daily -> close queue -> close --
    def run_daily(self, day: date) -> dict:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": f"{day.isoformat()}T00:30:00Z",
            "region": self.stack.region,
            "resources": [f"arn:aws:events:{self.stack.region}:{ACCOUNT_ID}:rule/cxbill-daily"],
            "detail": {},
        }
        if self.chaos is None:
            result = self.functions["daily"].handler(event, LambdaContext("daily"))
        else:  # the schedule's retry policy runs a crashed daily again, with the same event
            results: list[dict] = []

            def daily(name: str, _records: dict, remaining_ms: int) -> set[str]:
                context = LambdaContext(name, remaining_ms=remaining_ms)
                results.append(self.functions[name].handler(event, context))
                return set()

            self.chaos.run_once("daily", daily, key=f"daily:{day.isoformat()}")
            result = results[-1]
        self.deliver_closes()
        return result

    def deliver_closes(self) -> None:
        if self.chaos is not None:
            self._chaos_deliver_closes(self.chaos)
            return
        for messages in self._receive(self.stack.close_queue_url):
            records = [self._sqs_record(m, json.loads(m["Body"]), "CloseQueue") for m in messages]
            self._invoke("close", {"Records": records}, self.stack.close_queue_url, messages)

    def get_document(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.stack.documents_bucket, Key=key)["Body"].read()

    # -- the API --
    def api(self, path: str, claims: dict | None, query: dict | None = None) -> dict:
        """An API Gateway HTTP API (payload 2.0) request, as the JWT authorizer passes it on."""
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": f"GET {path}",
            "rawPath": path,
            "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
            "queryStringParameters": query,
            "headers": {"host": "localhost"},
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": "local",
                "domainName": "localhost",
                "http": {
                    "method": "GET",
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "cxbill",
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": f"GET {path}",
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": 0,
            },
            "isBase64Encoded": False,
        }
        if claims is not None:
            event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        response = self.functions["api"].handler(event, LambdaContext("api"))
        return {"status": response["statusCode"], "body": json.loads(response["body"] or "null")}

    # -- chaos: the queue drained, then delivered the way `Chaos` draws it --
    def _chaos_deliver_uploads(self, chaos: Chaos) -> None:
        records = []
        for message in self._drain(self.stack.ingest_queue_url):
            body = json.loads(message["Body"])
            if body.get("Event") == "s3:TestEvent":
                continue
            records.append(self._sqs_record(message, self._stamped(body), "IngestQueue"))
        records.sort(key=lambda r: json.loads(r["body"])["Records"][0]["eventTime"])
        if records:
            chaos.deliver_uploads(records, self._chaos_invoke)
        self._chaos_dead_letters(chaos, "ingest")

    def _chaos_deliver_closes(self, chaos: Chaos) -> None:
        while messages := self._drain(self.stack.close_queue_url):
            records = [self._sqs_record(m, json.loads(m["Body"]), "CloseQueue") for m in messages]
            chaos.deliver_closes(records, self._chaos_invoke)
            self._chaos_dead_letters(chaos, "close")

    def _chaos_invoke(self, name: str, event: dict, remaining_ms: int) -> set[str]:
        """One invocation; returns the ids of the records that failed (an injected crash
        propagates: `Chaos` puts the whole batch back)."""
        context = LambdaContext(name, remaining_ms=remaining_ms)
        try:
            result = self.functions[name].handler(event, context) or {}
        except Exception:  # the whole batch failed (Powertools raises when all records fail)
            return {r["messageId"] for r in event["Records"]}
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    def _chaos_dead_letters(self, chaos: Chaos, function: str) -> None:
        for message in chaos.dead_lettered:
            self.dead_letters.append({"function": function, "body": message.record["body"]})
            print(
                f"cxbill: {function} failed {RETRIES} times; message dead-lettered",
                file=sys.stderr,
            )
        chaos.dead_lettered.clear()

    def _drain(self, url: str) -> list[dict]:
        """Everything the queue holds now, deleted from it (`Chaos` holds it from here on).
        A FIFO queue hands out a group's next messages once the earlier ones are deleted."""
        drained: list[dict] = []
        for messages in self._receive(url):
            drained.extend(messages)
            self._delete(url, messages)
        return drained

    # -- SQS plumbing --
    def _receive(self, url: str) -> Iterator[list[dict]]:
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            )
            messages = got.get("Messages", [])
            if not messages:
                return
            yield messages

    def _invoke(self, name: str, event: dict, url: str, messages: list[dict]) -> None:
        """Call the function with the batch; what fails is retried, then dead-lettered, as the
        event source mapping and the queue's redrive policy would."""
        for _attempt in range(RETRIES):
            try:
                result = self.functions[name].handler(event, LambdaContext(name)) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception:  # the whole batch failed (Powertools raises when all records fail)
                failed = {r["messageId"] for r in event["Records"]}
            if not failed:
                break
            event = {"Records": [r for r in event["Records"] if r["messageId"] in failed]}
        else:
            for record in event["Records"]:
                self.dead_letters.append({"function": name, "body": record["body"]})
                print(
                    f"cxbill: {name} failed {RETRIES} times; message dead-lettered", file=sys.stderr
                )
        self._delete(url, messages)

    def _delete(self, url: str, messages: list[dict]) -> None:
        for m in messages:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def _sqs_record(self, message: dict, body: dict, queue: str) -> dict:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": json.dumps(body),
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "awsRegion": self.stack.region,
            "eventSourceARN": self.stack.queue_arns.get(queue, ""),
        }


@contextmanager
def local_cloud(server: bool = False, port: int = 0) -> Iterator[LocalCloud]:
    """The stack on moto: in-process (default), or a loopback server for `serve` and for
    fetching presigned URLs."""
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    with environment(FAKE_CREDENTIALS):
        if server:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
            moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            moto_server.start()
            host, bound = moto_server.get_host_and_port()
            endpoint = f"http://{host}:{bound}"
            try:
                yield from _cloud(endpoint)
            finally:
                moto_server.stop()
        else:
            with mock_aws():
                yield from _cloud(None)


def _cloud(endpoint: str | None) -> Iterator[LocalCloud]:
    stack = build_stack(endpoint_url=endpoint)
    env = stack.environment()
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    with environment(env):
        wiring.reset()
        from cxbill.adapters.aws import client

        client.cache_clear()
        try:
            yield LocalCloud(stack)
        finally:
            wiring.reset()
            client.cache_clear()
