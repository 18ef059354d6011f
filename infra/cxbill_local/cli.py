"""The `cxbill` console command: replay, demo, serve, and upload / run-daily on a running serve
(SPEC 10)."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

from .replay import ScenarioError, replay

DEMO_SCENARIO = Path(__file__).parent / "scenarios" / "demo"
DEMO_UNTIL = date(2026, 6, 2)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from e


def _progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty() and done < total:
        return  # a log, not a terminal: one line at the end is enough
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_replay(args: argparse.Namespace) -> int:
    summary = replay(args.scenario, args.until, args.out, chaos=args.chaos)
    print(f"replayed {args.scenario} through {args.until}: {summary['invoices']} -> {args.out}")
    if "chaos" in summary:
        c = summary["chaos"]
        print(
            f"chaos seed {c['seed']}: {c['deliveries']} deliveries in {c['invocations']} "
            f"invocations, {c['duplicates']} duplicates, {c['reordered']} reordered pairs, "
            f"{c['crashes']['injected']} crashes ({c['crashes']['before']} before a call, "
            f"{c['crashes']['after']} after one)"
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out = args.out
    summary = replay(DEMO_SCENARIO, DEMO_UNTIL, out, progress=_progress_bar)
    pdfs = sorted(out.glob("invoices/*/*.pdf"))
    print(
        f"Replayed the demo scenario through {DEMO_UNTIL}: "
        f"{summary['uploads']['accepted']} uploads accepted, "
        f"{summary['uploads']['rejected']} rejected (reports in {out / 'rejections'})."
    )
    print(f"{len(pdfs)} invoice PDFs:")
    for pdf in pdfs:
        print(f"  {pdf.resolve()}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args.port, demo=args.demo)


UPLOAD_ROOTS = ("contracts", "usage", "rates", "config")  # the upload bucket's prefixes (4.1)


class StandInError(Exception):
    """The running stand-in could not be reached, or refused: a one-line reason."""


def _stand_in(port: int, path: str, body: bytes = b"", timeout: float = 600) -> dict:
    """POST to the running `cxbill serve` on PORT (its API answers on PORT + 1)."""
    url = f"http://127.0.0.1:{port + 1}{path}"
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        try:
            reason = json.load(e).get("message", e.reason)
        except ValueError:
            reason = e.reason
        raise StandInError(f"the stand-in refused {path.split('?')[0]}: {reason}") from e
    except OSError as e:
        raise StandInError(
            f"no stand-in on 127.0.0.1:{port + 1} ({e}); start one with `cxbill serve`"
        ) from e


def upload_files(path: Path, key: str | None) -> list[tuple[str, Path]]:
    """(key, file) to upload: one file at KEY (or at its path from contracts/, usage/, rates/ or
    config/ on), or a folder laid out like a scenario day (keys relative to it, in path order)."""
    if path.is_dir():
        if key:
            raise ScenarioError("--key names one file; a folder's keys are its own paths")
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if not files:
            raise ScenarioError(f"{path}: no files")
        return [(p.relative_to(path).as_posix(), p) for p in files]
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file or folder")
    if key:
        return [(key, path)]
    parts = path.resolve().parts
    roots = [i for i, part in enumerate(parts) if part in UPLOAD_ROOTS]
    if not roots:
        raise ScenarioError(f"{path}: give --key (e.g. contracts/<org_id>.json)")
    return [("/".join(parts[roots[-1] :]), path)]


def cmd_upload(args: argparse.Namespace) -> int:
    for key, path in upload_files(args.path, args.key):
        query = urllib.parse.urlencode({"key": key})
        result = _stand_in(args.port, f"/dev/upload?{query}", path.read_bytes())
        line = f"{key}: {result['status']}"
        if result["status"] == "accepted" and key.startswith(("usage/", "rates/")):
            rows = result.get("rows", 0)
            line += f" ({rows} row{'' if rows == 1 else 's'})"
        if result.get("report_key"):
            line += f" - report {result['report_key']}"
        print(line)
    return 0


def cmd_run_daily(args: argparse.Namespace) -> int:
    through = args.through or args.date
    if through < args.date:
        raise ScenarioError(f"--through {through} is before --date {args.date}")
    query = urllib.parse.urlencode({"date": args.date.isoformat(), "through": through.isoformat()})
    result = _stand_in(args.port, f"/dev/daily?{query}")
    for day in result["days"]:
        failed = day.get("failed") or 0
        failed = len(failed) if isinstance(failed, list) else failed
        note = f", {failed} failed (retried by the next run)" if failed else ""
        print(f"{day['date']}: {day['close_messages']} close messages{note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxbill", description="cxbill on a local AWS stand-in")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("replay", help="replay a scenario directory")
    p.add_argument("scenario", type=Path)
    p.add_argument("--until", type=_day, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--chaos",
        type=int,
        metavar="SEED",
        default=None,
        help="deliver events the way AWS may: shuffled, duplicated, crashed and retried",
    )
    p.set_defaults(run=cmd_replay)
    p = commands.add_parser("demo", help="replay the bundled example scenario")
    p.add_argument("--out", type=Path, default=Path("out/demo"))
    p.set_defaults(run=cmd_demo)
    p = commands.add_parser("serve", help="run the local stack on 127.0.0.1 until interrupted")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument(
        "--demo", action="store_true", help="start with the demo scenario replayed (console URL)"
    )
    p.set_defaults(run=cmd_serve)
    p = commands.add_parser("upload", help="put a file or a scenario day folder into `serve`")
    p.add_argument("path", type=Path)
    p.add_argument("--key", help="the upload key of one file (default: from its path)")
    p.add_argument("--port", type=int, default=5000, help="the port `cxbill serve` was given")
    p.set_defaults(run=cmd_upload)
    p = commands.add_parser("run-daily", help="run the daily job of a day (or days) on `serve`")
    p.add_argument("--date", type=_day, required=True)
    p.add_argument("--through", type=_day, help="run every day from --date through this one")
    p.add_argument("--port", type=int, default=5000, help="the port `cxbill serve` was given")
    p.set_defaults(run=cmd_run_daily)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        return args.run(args)
    except (ScenarioError, StandInError) as e:
        print(f"cxbill: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
