"""`cxbill serve`: the local stack on 127.0.0.1 until interrupted.

- the emulated AWS endpoint (moto server): upload with any S3 client; a poller delivers the
  upload notifications to the ingest function, as the SQS event source mapping would;
- the admin API on the next port, behind a locally signed development token
  (GET /dev/token?org_id=... hands one out); POST /dev/daily?date=YYYY-MM-DD runs a day.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import devtoken
from .runtime import LocalCloud, local_cloud


def serve(port: int) -> int:
    with local_cloud(server=True, port=port) as cloud:
        cloud.wall_clock = True
        lock = threading.Lock()  # one delivery at a time, like one function concurrency
        api = ThreadingHTTPServer(("127.0.0.1", port + 1), _handler(cloud, lock))
        threading.Thread(target=api.serve_forever, daemon=True).start()
        print(
            f"AWS stand-in:  {cloud.stack.endpoint_url}  (upload bucket "
            f"{cloud.stack.upload_bucket}, documents {cloud.stack.documents_bucket})"
        )
        print(f"admin API:     http://127.0.0.1:{port + 1}/orgs/<org_id>/invoices")
        print(f"dev token:     curl 'http://127.0.0.1:{port + 1}/dev/token?org_id=<org_id>'")
        print("Ctrl-C to stop.")
        try:
            last_daily = None
            while True:
                with lock:
                    cloud.deliver_uploads()
                    now = datetime.now(UTC)
                    if (now.hour, now.minute) >= (0, 30) and last_daily != now.date():
                        cloud.run_daily(now.date())
                        last_daily = now.date()
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopped")
        finally:
            api.shutdown()
    return 0


def _handler(cloud: LocalCloud, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            if url.path == "/dev/token":
                claims = {"org_id": query.get("org_id", ""), "permissions": ["billing:all"]}
                return self._send(200, {"token": devtoken.sign(claims)})
            auth = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            claims = devtoken.verify(auth) if auth else None
            with lock:
                response = cloud.api(url.path, claims, query or None)
            self._send(response["status"], response["body"])

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            if url.path != "/dev/daily":
                return self._send(404, {"error": "not_found", "message": "no such route"})
            day = dict(parse_qsl(url.query)).get("date") or datetime.now(UTC).date().isoformat()
            with lock:
                result = cloud.run_daily(date.fromisoformat(day))
            self._send(200, result)

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler
