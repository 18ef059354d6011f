"""The `cxbill` console command: replay, demo, serve (SPEC 10)."""

from __future__ import annotations

import argparse
import sys
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

    return serve(args.port)


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
    p.set_defaults(run=cmd_serve)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        return args.run(args)
    except ScenarioError as e:
        print(f"cxbill: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
