"""`cxbill serve`: the local stack on 127.0.0.1 until interrupted.

- the emulated AWS endpoint (moto server) on PORT: upload with any S3 client; a poller delivers
  the upload notifications to the ingest function, as the SQS event source mapping would;
- on PORT + 1, the admin API (functions/api, called with the HTTP API's event shape) with
  its console at /console/ and its description at /openapi.json, behind locally signed
  development tokens, plus the stand-in's own routes under /dev/:
  - GET  /dev/token?org_id=ORG[&permissions=a,b]  a token (default permission billing:all);
  - GET  /console/config.json                     the console's development sign-in;
  - POST /dev/upload?key=KEY (the file as body)   an upload, delivered at once (`cxbill upload`);
  - POST /dev/daily?date=D[&through=D2]           the daily run of each day (`cxbill run-daily`).

`serve --demo` starts with the demo scenario replayed on the simulated clock; the stand-in's
"today" is then the scenario's last day, and days go on only with `cxbill run-daily`. Plain
`serve` runs on the wall clock (the daily run at 00:30 UTC).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import devtoken
from .replay import Scenario
from .runtime import LambdaContext, LocalCloud, local_cloud
from .stack import ACCOUNT_ID

# The development sign-in's choices: what a billing admin, a viewer and someone without a
# billing permission hold (R-api-1).
PERMISSION_SETS = {
    "Billing admin (billing:all)": ["billing:all"],
    "Subscription viewer (billing:subscription:view)": ["billing:subscription:view"],
    "No billing permission (directory:user:view)": ["directory:user:view"],
}
MAX_UPLOAD_BYTES = 2 * 1024**3  # R-ingest-6's file limit


class Stand:
    """The local cloud and its clock, shared by the HTTP threads (one call at a time, as one
    function concurrency would do)."""

    def __init__(self, cloud: LocalCloud, today: date | None):
        self.cloud = cloud
        self.lock = threading.Lock()
        self.today = today  # the simulated day (--demo), or None: the wall clock's

    def day(self) -> date:
        return self.today or datetime.now(UTC).date()

    def orgs(self) -> list[str]:
        from cxbill.adapters.models import OrgItem
        from cxbill.jobs import wiring

        wiring.settings()  # the models bound to the stand-in's tables
        return sorted(item.org_id for item in OrgItem.scan(attributes_to_get=["org_id"]))

    def upload(self, key: str, body: bytes) -> dict:
        """Put `body` at `key` (stamped on the stand-in's day) and deliver it to ingest."""
        from cxbill.adapters.models import IngestionItem
        from cxbill.jobs import wiring

        wiring.settings()
        if self.today:
            self.cloud.set_day(self.today)
        self.cloud.put_upload(key, body)
        self.cloud.deliver_uploads()
        version = self.cloud.upload_versions[key][-1]
        found = [item for item in IngestionItem.query(key) if item.version == version]
        if not found:
            return {"key": key, "status": "queued"}
        item = found[0]
        result = {"key": key, "status": item.status, "rows": int(item.rows or 0)}
        if item.report_key:
            result["report_key"] = item.report_key
        if item.reason:
            result["reason"] = item.reason
        return result

    def run_days(self, first: date, last: date) -> list[dict]:
        results = []
        day = first
        while day <= last:
            self.cloud.set_day(day)
            results.append(self.cloud.run_daily(day))
            if self.today is not None:
                self.today = max(self.today, day)
            day += timedelta(days=1)
        return results


def serve(port: int, demo: bool = False) -> int:
    with local_cloud(server=True, port=port) as cloud:
        stand = Stand(cloud, None)
        if demo:
            stand.today = replay_demo(cloud)
        else:
            cloud.wall_clock = True
        api = api_server(stand, port + 1)
        base = f"http://127.0.0.1:{port + 1}"
        print(
            f"AWS stand-in:  {cloud.stack.endpoint_url}  (upload bucket "
            f"{cloud.stack.upload_bucket}, documents {cloud.stack.documents_bucket})"
        )
        print(f"admin console: {base}/console/")
        print(f"admin API:     {base}/orgs/<org_id>/invoices   (described at {base}/openapi.json)")
        print(f"dev token:     curl '{base}/dev/token?org_id=<org_id>'")
        if demo:
            print(f"demo day:      {stand.today}  (next days: cxbill run-daily --date YYYY-MM-DD)")
        print("Ctrl-C to stop.", flush=True)
        try:
            last_daily = None
            while True:
                with stand.lock:
                    cloud.deliver_uploads()
                    now = datetime.now(UTC)
                    wall_daily = not demo and (now.hour, now.minute) >= (0, 30)
                    if wall_daily and last_daily != now.date():
                        cloud.run_daily(now.date())
                        last_daily = now.date()
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopped")
        finally:
            api.shutdown()
    return 0


def api_server(
    stand: Stand, port: int, handler: type[BaseHTTPRequestHandler] | None = None
) -> ThreadingHTTPServer:
    """The admin API, its console and the /dev/ routes on 127.0.0.1:`port` (0: any free port),
    answering from a thread of their own until `shutdown()`. `handler`: a subclass of
    `request_handler(stand)` that answers more (a test's identity provider)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler or request_handler(stand))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def replay_demo(cloud: LocalCloud) -> date:
    """The bundled demo scenario, day by day through its last day, into this stand-in."""
    from .cli import DEMO_SCENARIO, DEMO_UNTIL, _progress_bar

    scenario = Scenario.load(DEMO_SCENARIO)
    days = (DEMO_UNTIL - scenario.first_day).days + 1
    print(f"Replaying the demo scenario {scenario.first_day} … {DEMO_UNTIL}", file=sys.stderr)
    for i in range(days):
        day = scenario.first_day + timedelta(days=i)
        cloud.set_day(day)
        for key, path in scenario.uploads.get(day, []):
            cloud.upload(key, path.read_bytes())
        cloud.run_daily(day)
        _progress_bar(i + 1, days)
    return DEMO_UNTIL


def api_event(
    method: str, path: str, query: str, headers: dict[str, str], claims: dict | None
) -> dict:
    """An API Gateway HTTP API (payload 2.0) request, as the JWT authorizer passes it on."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": params or None,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def request_handler(stand: Stand) -> type[BaseHTTPRequestHandler]:
    """The HTTP handler of `serve`'s API port, bound to `stand`."""
    cloud = stand.cloud

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            if url.path == "/dev/token":
                wanted = query.get("permissions", "billing:all")
                claims = {
                    "org_id": query.get("org_id", ""),
                    "permissions": [p for p in wanted.split(",") if p],
                    "sub": "dev-user",
                }
                return self._send(200, {"token": devtoken.sign(claims)})
            if url.path == "/console/config.json":
                with stand.lock:
                    orgs = stand.orgs()
                return self._send(200, self._dev_config(orgs))
            auth = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            verified = devtoken.verify(auth) if auth else None
            event = api_event("GET", url.path, url.query, dict(self.headers.items()), verified)
            with stand.lock:
                response = cloud.functions["api"].handler(event, LambdaContext("api"))
            self._answer(response)

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            try:
                if url.path == "/dev/upload":
                    return self._upload(query)
                if url.path == "/dev/daily":
                    first = _date(query.get("date")) or stand.day()
                    last = _date(query.get("through")) or first
                    if last < first:
                        raise ValueError("through is before date")
                    with stand.lock:
                        results = stand.run_days(first, last)
                    return self._send(200, {"days": results, "today": stand.day().isoformat()})
            except ValueError as e:
                return self._send(400, {"error": "bad_request", "message": str(e)})
            self._send(404, {"error": "not_found", "message": "no such route"})

        def _upload(self, query: dict[str, str]) -> None:
            key = query.get("key", "")
            size = int(self.headers.get("Content-Length") or 0)
            if not key or size > MAX_UPLOAD_BYTES:
                raise ValueError("give ?key=KEY and the file (at most 2 GiB) as the body")
            body = self.rfile.read(size)
            with stand.lock:
                result = stand.upload(key, body)
            self._send(200, result)

        def _dev_config(self, orgs: list[str]) -> dict:
            return {
                "mode": "dev",
                "today": stand.today.isoformat() if stand.today else None,
                "orgs": orgs,
                "permission_sets": [
                    {"label": label, "permissions": permissions}
                    for label, permissions in PERMISSION_SETS.items()
                ],
            }

        def _answer(self, response: dict) -> None:
            body = response.get("body") or ""
            data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
            self.send_response(response["statusCode"])
            for name, value in (response.get("headers") or {}).items():
                self.send_header(name, value)
            for cookie in response.get("cookies") or []:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"not a date YYYY-MM-DD: {text!r}") from e
