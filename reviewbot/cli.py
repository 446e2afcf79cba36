"""Command line: one short handler per subcommand; the only place that prints errors.

Exit status: 0 no findings at or above ``--fail-on``, 1 findings, 2 tool error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from reviewbot import __version__
from reviewbot.config import Settings
from reviewbot.engine.schema import SEVERITIES
from reviewbot.errors import ReviewbotError
from reviewbot.findings import Review

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json")


def _settings(args: argparse.Namespace) -> Settings:
    from reviewbot.limits import parse_limits

    limits = parse_limits(getattr(args, "limit", None) or ())
    return Settings(
        rules_dirs=tuple(Path(d) for d in args.rules_dir or ()),
        select=tuple(x for s in args.select or () for x in s.split(",") if x),
        ignore=tuple(x for s in args.ignore or () for x in s.split(",") if x),
        preview=args.preview,
        version=args.version_n,
        max_input_bytes=limits.input_bytes,
        limits=limits,
    )


def _add_rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules-dir", action="append", metavar="DIR",
                   help="load rules from DIR instead of the bundled rules (repeatable)")
    p.add_argument("--select", action="append", metavar="IDS",
                   help="run only these rules (ids, names or classes, comma-separated)")
    p.add_argument("--ignore", action="append", metavar="IDS", help="skip these rules")
    p.add_argument("--preview", action="store_true", help="also run preview rules")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewbot",
                                     description="Review Linux kernel patches like a "
                                                 "maintainer would.")
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="review a series (mbox, Maildir, patches, stdin)")
    check.add_argument("source", help="an mbox, a Maildir, a directory of patches, a "
                                      ".patch/.eml file, or - for stdin")
    check.add_argument("--format", choices=FORMATS, default=None,
                       help="output format (default: text)")
    check.add_argument("-v", "--series-version", dest="version_n", type=int, metavar="N",
                       help="review revision N of the series instead of the newest")
    check.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="info",
                       help="exit 1 when a finding is at least this severe (default: info)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.add_argument("--limit", action="append", metavar="NAME=VALUE",
                       help="change a size limit (input-bytes, message-bytes, "
                            "patches-per-series, lines-per-patch, line-length; see README)")
    _add_rule_options(check)

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--check", action="store_true",
                       help="run every rule's examples and report failures")
    _add_rule_options(rules)

    explain = sub.add_parser("explain", help="print a rule's documentation and examples")
    explain.add_argument("rule", help="rule id or name")
    _add_rule_options(explain)
    return parser


def _exit_status(review: Review, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_CLEAN
    threshold = [str(s) for s in SEVERITIES].index(fail_on)
    worst = [SEVERITIES.index(f.severity) for f in review.findings]
    return EXIT_FINDINGS if worst and max(worst) >= threshold else EXIT_CLEAN


def cmd_check(args: argparse.Namespace) -> int:
    from reviewbot.fetch.resolve import read_input
    from reviewbot.pipeline import review_messages

    settings = _settings(args)
    messages = read_input(args.source, settings.max_input_bytes)
    review = review_messages(messages, settings)
    fmt = args.format or "text"
    if fmt == "json":
        from reviewbot.report.json import render_json

        out = render_json(review)
    else:
        from reviewbot.report.text import render_text

        colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                            and not os.environ.get("NO_COLOR"))
        out = render_text(review, colour)
    sys.stdout.write(out)
    return _exit_status(review, args.fail_on)


def cmd_rules(args: argparse.Namespace) -> int:
    from reviewbot.engine.loader import load_rules

    rules = load_rules([Path(d) for d in args.rules_dir or ()] or None)
    if args.check:
        from reviewbot.engine.examples import run_examples

        results = run_examples(rules)
        bad = [res for res in results if not res.ok]
        for res in results:
            if not res.ok or res.kind == "todo":
                print(f"{res.rule} example {res.index} ({res.kind}): {res.detail}")
        print(f"{len(results) - len(bad)} passed, {len(bad)} failed")
        return EXIT_FINDINGS if bad else EXIT_CLEAN
    width = max((len(r.name) for r in rules), default=4)
    for r in rules:
        print(f"{r.id}  {r.name:<{width}}  {r.cls:<12} {r.severity:<8} {r.status}")
    return EXIT_CLEAN


def cmd_explain(args: argparse.Namespace) -> int:
    from reviewbot.engine.loader import load_rules
    from reviewbot.report.explain import render_explain

    rules = load_rules([Path(d) for d in args.rules_dir or ()] or None)
    for rule in rules:
        if args.rule in (rule.id, rule.name):
            sys.stdout.write(render_explain(rule))
            return EXIT_CLEAN
    raise ReviewbotError(f"no rule {args.rule!r} (see 'reviewbot rules')")


HANDLERS = {"check": cmd_check, "rules": cmd_rules, "explain": cmd_explain}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except ReviewbotError as exc:
        print(f"reviewbot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("REVIEWBOT_DEBUG"):
            raise
        print(f"reviewbot: internal error: {type(exc).__name__}: {exc} "
              "(set REVIEWBOT_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_ERROR
