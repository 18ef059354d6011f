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
from typing import Any

import boto3

from cxbill.jobs import wiring

from .stack import ACCOUNT_ID, LocalStack, build_stack

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

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


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
        self.dead_letters: list[dict] = []  # what the DLQs would hold
        self.wall_clock = False  # `serve`: uploads happen now, not on a simulated day

    # -- the clock --
    def set_day(self, day: date) -> None:
        self._clock = datetime(day.year, day.month, day.day)
        self._uploads_today = 0

    # -- S3 -> SQS -> ingest --
    def upload(self, key: str, body: bytes) -> None:
        """Put an object in the upload bucket and deliver the notification to `ingest`."""
        self.s3.put_object(Bucket=self.stack.upload_bucket, Key=key, Body=body)
        self.deliver_uploads()

    def deliver_uploads(self) -> None:
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
        """moto stamps events with the wall clock; the simulated clock is the one that counts.
        Uploads of one day are 1 ms apart, in the order they were made."""
        for record in s3_event.get("Records", []):
            if self.wall_clock:
                continue
            at = self._clock + timedelta(milliseconds=self._uploads_today)
            self._uploads_today += 1
            record["eventTime"] = (
                at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
            )
        return s3_event

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
        result = self.functions["daily"].handler(event, LambdaContext("daily"))
        self.deliver_closes()
        return result

    def deliver_closes(self) -> None:
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
