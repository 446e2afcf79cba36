"""Command line: one short handler per subcommand; the only place that prints errors.

Exit status: 0 no findings at or above ``--fail-on``, 1 findings, 2 tool error.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from reviewbot import __version__
from reviewbot.errors import ReviewbotError

# A subcommand imports only its own modules: the heavy libraries (b4, requests) only
# where a thread is fetched.
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import NoReturn

    from reviewbot.config import Environment, Settings
    from reviewbot.engine.schema import Rule
    from reviewbot.fetch.lore import LoreOptions
    from reviewbot.fetch.resolve import Input
    from reviewbot.findings import Review
    from reviewbot.knowledge.source import KnowledgeSource
    from reviewbot.progress import TerminalFeedback
    from reviewbot.report.reply import Reply
    from reviewbot.report.text import Provenance
    from reviewbot.revisions.lookup import Lookup
    from reviewbot.tree.git import GitTree

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "reply", "checkpatch", "b4-json")
REPLY_ONLY = ("output", "send", "all", "summary")


def _rule_keys(values: Sequence[str] | None) -> tuple[str, ...]:
    """--select/--ignore values: repeatable, each comma-separated."""
    return tuple(x.strip() for s in values or () for x in s.split(",") if x.strip())


def _settings(args: argparse.Namespace) -> Settings:
    from pathlib import Path

    from reviewbot.config import Settings
    from reviewbot.limits import parse_limits

    limits = parse_limits(getattr(args, "limit", None) or ())
    return Settings(
        rules_dirs=tuple(Path(d) for d in args.rules_dir or ()),
        select=_rule_keys(args.select),
        ignore=_rule_keys(args.ignore),
        preview=args.preview,
        version=args.version_n,
        max_input_bytes=limits.input_bytes,
        limits=limits,
        jobs=_jobs(getattr(args, "jobs", 1)),  # only check has --jobs
    )


def _jobs(asked: int | None) -> int:
    """--jobs N; by default as many as the CPUs this process may use."""
    if asked is not None:
        return asked
    from reviewbot.workers import available_cpus

    return available_cpus()


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _add_rule_options(p: argparse.ArgumentParser, select: bool = True,
                      preview: bool = True) -> None:
    p.add_argument("--rules-dir", action="append", metavar="DIR",
                   help="load rules from DIR instead of the bundled rules (repeatable)")
    if select:
        p.add_argument("--select", action="append", metavar="IDS",
                       help="only these rules: ids, names, classes or categories, any "
                            "case, comma-separated (repeatable); one that names no rule "
                            "is an error")
        p.add_argument("--ignore", action="append", metavar="IDS",
                       help="not these rules (as --select)")
    if preview:
        p.add_argument("--preview", action="store_true", help="also run preview rules")


def build_parser() -> argparse.ArgumentParser:
    import argparse
    from pathlib import Path

    from reviewbot.engine.vocab import SEVERITIES

    parser = argparse.ArgumentParser(prog="reviewbot",
                                     description="Review Linux kernel patches like a "
                                                 "maintainer would.")
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="review a series (mbox, Maildir, patches, stdin, "
                                         "a git range, or a Message-ID / lore URL)")
    check.add_argument("source", nargs="?",
                       help="an mbox, a Maildir, a directory of patches, a .patch/.eml "
                            "file, - for stdin, a git range such as HEAD~3.., or a "
                            "Message-ID or lore URL whose thread is fetched")
    check.add_argument("--git", metavar="RANGE",
                       help="review the commits of RANGE (A..B, A.., or A for A..HEAD) as "
                            "the series git format-patch would make")
    tree = check.add_mutually_exclusive_group()
    tree.add_argument("--tree", metavar="PATH",
                      help="kernel tree to apply the series in for whole-file context, "
                           "and whose index (reviewbot index) checks use; a tree "
                           "without git gives its index only (default: the current "
                           "directory when it is a kernel tree, else 'tree' in the "
                           "config file)")
    tree.add_argument("--no-tree", action="store_true",
                      help="review from the patches alone (no tree, no index)")
    check.add_argument("--base", metavar="COMMIT",
                       help="apply the series on COMMIT instead of its base-commit or HEAD")
    check.add_argument("--format", choices=FORMATS, default=None,
                       help="output format (default: text; reply with --output, --send, "
                            "--all or --summary); checkpatch and b4-json are what b4's "
                            "check commands read")
    check.add_argument("--reply", dest="format", action="store_const", const="reply",
                       help="same as --format reply")
    check.add_argument("-v", "--series-version", dest="version_n", type=int, metavar="N",
                       help="review revision N of the series instead of the newest")
    check.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="info",
                       help="exit 1 when a finding is at least this severe (default: info)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the severities of the text report (default: auto, "
                            "when standard output is a terminal and NO_COLOR is not set)")
    check.add_argument("-q", "--quiet", action="store_true",
                       help="no progress or context on stderr (shown only on a terminal)")
    check.add_argument("--verbose", action="store_true",
                       help="text report: also list the lines not mapped to C (else "
                            "counted in the summary line)")
    since = check.add_mutually_exclusive_group()
    since.add_argument("--since", metavar="SOURCE",
                       help="compare with the previous revision of the series found in "
                            "SOURCE (an mbox, a Message-ID or URL), or 'lore' to search the "
                            "lore server for it (default: look in the input, and for a "
                            "Message-ID or URL also in its thread and on its server)")
    since.add_argument("--no-revisions", action="store_true",
                       help="do not compare the series with its previous revision")
    check.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                       help="review the series of a large input in N processes "
                            "(default: one per CPU; 1: never fork)")
    lore = check.add_argument_group("fetching a Message-ID or URL")
    lore.add_argument("--lore-url", metavar="URL",
                      help="public-inbox server to fetch from (default: config lore_url, "
                           "else https://lore.kernel.org/all/)")
    lore.add_argument("--timeout", type=float, metavar="SECONDS",
                      help="give up fetching after this long (default: config "
                           "lore_timeout, else 30)")
    lore.add_argument("--no-cache", action="store_true",
                      help="neither read nor write the thread cache")
    lore.add_argument("--offline", action="store_true",
                      help="use only the thread cache (any age), never the network")
    check.add_argument("--limit", action="append", metavar="NAME=VALUE",
                       help="change a size limit (input-bytes, message-bytes, "
                            "patches-per-series, lines-per-patch, line-length; see README)")
    _add_rule_options(check)
    rep = check.add_argument_group("replies (--format reply)")
    rep.add_argument("--output", metavar="DIR", type=Path,
                     help="write one .eml per reply and replies.mbox into DIR")
    rep.add_argument("--send", action="store_true",
                     help="send the replies over SMTP (git config sendemail.*)")
    rep.add_argument("--dry-run", action="store_true",
                     help="with --send: print what would be sent, send nothing")
    rep.add_argument("--to-lists", action="store_true",
                     help="with --send: reply to everyone the patch went to, mailing lists "
                          "included (default: the author alone)")
    rep.add_argument("--all", action="store_true",
                     help="also reply to patches without findings (a short note)")
    rep.add_argument("--summary", action="store_true",
                     help="also reply to the cover letter with a summary")
    rep.add_argument("--b4-review", action="store_true",
                     help="write the comments to .git/b4-review/<tip>/ for 'b4 review'")
    rep.add_argument("--from", dest="sender", metavar="'NAME <ADDR>'",
                     help="reviewer identity (default: config file, then git user.*)")
    rep.add_argument("--date", metavar="DATE",
                     help="Date of the replies, ISO 8601 or RFC 2822 (default: "
                          "$REVIEWBOT_DATE, then now)")

    rules = sub.add_parser("rules", help="list the rules, one line each")
    rules.add_argument("--check", action="store_true",
                       help="run every rule's examples and report failures")
    rules.add_argument("--format", choices=("text", "markdown"), default="text",
                       help="markdown: the table README.md shows")
    _add_rule_options(rules, preview=False)

    ev = sub.add_parser("eval", help="measure the findings against a corpus of real "
                                     "reviews (a directory with manifest.json)")
    ev.add_argument("directory", nargs="?", help="corpus directory: manifest.json and the "
                                                 "patch files it names")
    ev.add_argument("--traffic", metavar="MBOX", help="instead of DIR: list traffic whose "
                    "findings are judged in --judged FILE (precision per rule)")
    ev.add_argument("--judged", metavar="FILE", help="the verdicts on --traffic's findings")
    ev.add_argument("--recall", metavar="FILE", help="with --traffic: the reviewers' classed "
                    "comments, to count those a finding lands on")
    ev.add_argument("--format", choices=("text", "json"), default="text",
                    help="output format")
    ev.add_argument("--per-patch", action="store_true",
                    help="review every patch file alone instead of together with the "
                         "other patches of its series in the corpus")
    _add_index_options(ev)
    _add_rule_options(ev)

    explain = sub.add_parser("explain", help="print a rule's documentation and examples")
    explain.add_argument("rule", help="rule id or name (any case)")
    _add_rule_options(explain, select=False, preview=False)

    watch = sub.add_parser("watch", help="review every new series arriving in a Maildir or "
                                         "on a lore list, once")
    watch.add_argument("--maildir", action="append", metavar="DIR",
                       help="a Maildir that mail is delivered into (repeatable; never modified)")
    watch.add_argument("--lore-list", action="append", metavar="URL",
                       help="a public-inbox list to follow, e.g. https://lore.kernel.org/linux-mm "
                            "(repeatable)")
    watch.add_argument("--outbox", metavar="DIR",
                       help="Maildir for reply drafts (created when missing)")
    watch.add_argument("--policy", metavar="FILE", help="policy file (TOML)")
    watch.add_argument("--state", metavar="FILE",
                       help="state database (default: $XDG_STATE_HOME/reviewbot/watch.sqlite)")
    watch.add_argument("--once", action="store_true",
                       help="process what is there, then exit")
    watch.add_argument("--grace", type=float, metavar="SECONDS",
                       help="review an incomplete series after this long (default: policy, 900)")
    watch.add_argument("--interval", type=float, metavar="SECONDS",
                       help="poll interval (default: policy, 30)")
    watch.add_argument("--status", action="store_true",
                       help="print the policy in force, the queue and the last errors, "
                            "then exit")
    _add_index_options(watch)
    index = sub.add_parser("index", help="build or update the knowledge index of a kernel "
                                         "tree (may-sleep, locks, member accesses)")
    index.add_argument("tree", nargs="?", default=".",
                       help="the kernel tree (default: the current directory)")
    index.add_argument("--status", action="store_true",
                       help="say which index exists for the tree and how old it is")
    index.add_argument("--full", action="store_true",
                       help="rebuild from scratch instead of re-reading changed files")
    index.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                       help="worker processes (default: one per CPU)")
    return parser


def _add_index_options(parser: argparse.ArgumentParser) -> None:
    """--tree / --no-tree for the commands that use a tree's index and nothing else of
    the tree (eval, watch): found as check finds it (``_knowledge``)."""
    tree = parser.add_mutually_exclusive_group()
    tree.add_argument("--tree", metavar="PATH",
                      help="use the index of this kernel tree (reviewbot index) as check "
                           "does (default: the current directory's kernel tree, else "
                           "'tree' in the config file, when it has an index)")
    tree.add_argument("--no-tree", action="store_true",
                      help="review from the patches alone (no index)")


def cmd_index(args: argparse.Namespace) -> int:
    from reviewbot.knowledge.cli import run_index

    return run_index(args.tree, args.status, args.full, _jobs(args.jobs))


def _exit_status(review: Review, fail_on: str) -> int:
    from reviewbot.engine.vocab import SEVERITIES

    if fail_on == "never":
        return EXIT_CLEAN
    threshold = [str(s) for s in SEVERITIES].index(fail_on)
    worst = [SEVERITIES.index(f.severity) for f in review.findings]
    return EXIT_FINDINGS if worst and max(worst) >= threshold else EXIT_CLEAN


def _check_format(args: argparse.Namespace) -> str:
    """The output format, after checking that the reply options fit together."""
    wants_reply = [o for o in REPLY_ONLY if getattr(args, o)
                   and not (o == "summary" and args.b4_review)]
    fmt: str = args.format or ("reply" if wants_reply else "text")
    if wants_reply and fmt != "reply":
        raise ReviewbotError(f"--{wants_reply[0].replace('_', '-')} needs --format reply")
    if args.dry_run and not args.send:
        raise ReviewbotError("--dry-run only applies to --send")
    if args.to_lists and not args.send:
        raise ReviewbotError("--to-lists only applies to --send")
    return fmt


def _messages_and_tree(args: argparse.Namespace, settings: Settings, env: Environment,
                       feedback: TerminalFeedback | None
                       ) -> tuple[Input, GitTree | None, str | None]:
    """What to review, in which tree (None: patch-only), on which base."""
    from pathlib import Path

    from reviewbot.fetch.resolve import looks_like_range

    cwd = Path.cwd()
    spec = args.git
    if spec is None and args.source and args.source != "-" and not Path(args.source).exists() \
            and looks_like_range(args.source):
        spec = args.source
    elif spec is not None and args.source:
        raise ReviewbotError("give either SOURCE or --git RANGE, not both")
    if spec is not None:
        from reviewbot.fetch.git import read_git_range
        from reviewbot.fetch.resolve import Input
        from reviewbot.tree.locate import find_repo

        repo = find_repo(args.tree, cwd)
        messages, rng = read_git_range(repo, spec)
        got = Input(tuple(messages), origin=f"git range {spec} of {repo.top}",
                    held=len(messages))
        return got, None if args.no_tree else repo, args.base or rng.base
    if not args.source:
        raise ReviewbotError("nothing to review: give SOURCE (a file, a directory, - for "
                             "stdin, or a git range) or --git RANGE")
    from reviewbot.fetch.resolve import Input, read_input
    from reviewbot.tree.locate import find_tree

    def lore_options() -> LoreOptions:
        from reviewbot.fetch.lore import lore_options

        return lore_options(env.config, args.lore_url, args.timeout, args.no_cache,
                            args.offline, settings.max_input_bytes,
                            env.cache_dir() / "lore", feedback.say if feedback else None)

    if feedback is not None and (args.source == "-" or Path(args.source).exists()):
        feedback.say(f"reading {'standard input' if args.source == '-' else args.source}")
    got = read_input(args.source, settings.max_input_bytes, lore_options, settings.version)
    tree = find_tree(args.tree, args.no_tree, cwd, env.config)
    if env.b4_tracking is not None:  # whatever the format: the same input, the same review
        from reviewbot.fetch.b4review import has_patch, tracked_series
        from reviewbot.tree.locate import find_repo

        if not has_patch(list(got.messages)):  # b4's series check: the cover letter alone
            from reviewbot.tree.git import TreeError

            try:
                found = tracked_series(tree or find_repo(None, cwd), env.b4_tracking)
            except TreeError:
                found = None
            if found is not None:
                return (Input(tuple(found[0]), origin=f"b4 review branch of {env.b4_tracking}",
                              held=len(found[0])), tree, args.base or found[1].base)
    return got, tree, args.base


def _load_rules(settings: Settings) -> list[Rule]:
    """The rules of this run; an unknown --select/--ignore key is an error here, before
    anything is read or fetched."""
    from reviewbot.ruleset import load_rules
    from reviewbot.selection import select_rules

    return load_rules(list(settings.rules_dirs) or None,
                      lambda rules: select_rules(rules, settings))


def cmd_check(args: argparse.Namespace) -> int:
    from reviewbot.config import read_environment
    from reviewbot.pipeline import review_messages

    fmt = _check_format(args)
    env = read_environment()
    settings = _settings(args)
    rules = _load_rules(settings)
    feedback = None
    if not args.quiet and sys.stderr.isatty():
        from reviewbot.progress import TerminalFeedback

        feedback = TerminalFeedback(sys.stderr)
    try:
        got, tree, base = _messages_and_tree(args, settings, env, feedback)
        for note in got.notes:
            _status(note)
        knowledge = _knowledge(args, env, tree)
        if knowledge is not None and feedback is not None and fmt not in ("checkpatch",
                                                                          "b4-json"):
            feedback.say(f"using the {knowledge.describe()}")
        lookup = _revision_lookup(args, fmt, got, settings, env)
        review = got.finish(review_messages(got.messages, settings, rules, tree=tree,
                                            base=base, revisions=lookup, progress=feedback,
                                            knowledge=knowledge))
    finally:
        if feedback is not None:
            feedback.finish()
    for sr in review.series:
        if sr.since is not None and sr.since.note:
            _status(f"note: {sr.since.note}")
    status = _exit_status(review, args.fail_on)
    index = knowledge.describe() if knowledge is not None else ""
    if fmt == "json":
        from reviewbot.report.json import render_json

        sys.stdout.write(render_json(review, index))
    elif fmt == "checkpatch":
        from reviewbot.report.checkpatch import render_checkpatch

        sys.stdout.write(render_checkpatch(review))
    elif fmt == "b4-json":
        from reviewbot.report.b4json import render_b4_json

        sys.stdout.write(render_b4_json(review))
    elif fmt == "text":
        from reviewbot.report.text import render_text

        colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                            and not env.no_color)
        sys.stdout.write(render_text(review, colour, _provenance(got), args.verbose, index))
    if fmt == "reply" or args.b4_review:
        failures = _replies(args, review, fmt == "reply", env)
        if failures:
            return EXIT_ERROR
    return status


def _knowledge(args: argparse.Namespace, env: Environment,
               tree: GitTree | None = None, index_only: bool = False
               ) -> KnowledgeSource | None:
    """The index the checks use: the tree's (``--tree``, the current directory, the
    config file's ``tree``), when it has one; check, eval and watch alike.
    ``index_only``: the command uses nothing else of the tree, so a ``--tree`` without
    an index is an error."""
    from pathlib import Path

    from reviewbot.knowledge.source import find_knowledge

    option = args.tree or (str(tree.top) if tree is not None else None)
    found = find_knowledge(option, args.no_tree, Path.cwd(), env.config.tree, env.xdg)
    if found is None and index_only and args.tree:
        raise ReviewbotError(f"{args.tree}: no index of this tree (run 'reviewbot index' "
                             "on it first)")
    return found


def _revision_lookup(args: argparse.Namespace, fmt: str, got: Input,
                     settings: Settings, env: Environment) -> Lookup | None:
    """Where to look for each series' previous revision (None: no revision review)."""
    if args.no_revisions or fmt in ("checkpatch", "b4-json"):
        return None
    from reviewbot.fetch.since import revision_lookup

    def lore() -> LoreOptions:
        from reviewbot.fetch.lore import lore_options

        return lore_options(env.config, args.lore_url, args.timeout, args.no_cache,
                            args.offline, settings.max_input_bytes, env.cache_dir() / "lore")

    return revision_lookup(got, args.since, lore, settings.limits, settings.max_input_bytes)


def _provenance(got: Input) -> Provenance:
    """Where the messages came from, for the text report's series headers."""
    import time

    from reviewbot.report.text import Provenance

    detail = ""
    if got.cached is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(got.cached))
        detail = f"cached copy of {when}"
    return Provenance(got.origin, got.held, detail)


def _replies(args: argparse.Namespace, review: Review, as_reply: bool,
             env: Environment) -> int:
    """Render, write, send and hand off the replies; the number of failed sends."""
    from reviewbot.report.reply import ReplyConfig, render_replies
    from reviewbot.userconfig import reply_date, reviewer_identity

    options = env.config.reply
    identity = reviewer_identity(args.sender, env)
    config = ReplyConfig(identity, reply_date(args.date, env), options.signature, args.all,
                         args.summary)
    replies = [r for sr in review.series for r in render_replies(sr, config)]
    for reply in replies:
        if reply.dropped_cc:
            _status(f"note: the reply to <{reply.in_reply_to}> is Cc'd to {len(reply.cc)} "
                    f"addresses, not all {len(reply.cc) + reply.dropped_cc} the patch went "
                    "to (the in-body author and the lists are kept)")
    if args.b4_review:
        from reviewbot.report.b4review import write_b4_review

        paths = write_b4_review(review, identity, summary=args.summary)
        if paths:
            _status(f"wrote {len(paths)} file(s) for 'b4 review' to {paths[0].parent}")
        else:
            _status("no comments to hand to 'b4 review'")
    if not as_reply:
        return 0
    if args.output:
        from reviewbot.report.mbox import write_output

        written = write_output(args.output, replies)
        _status(f"wrote {len(replies)} repl{'y' if len(replies) == 1 else 'ies'} to "
                f"{args.output} ({len(written)} files)")
    if args.send:
        return _send(args, review, options.lists, replies)
    if not args.output:
        from reviewbot.report.mbox import mbox_bytes

        data = mbox_bytes(replies)
        if sys.stdout.isatty():  # to be read there: quoted diff lines hold what mail sent
            from reviewbot.printable import printable_lines

            data = printable_lines(data.decode("utf-8", "replace")).encode()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            sys.stdout.flush()
            buffer.write(data)
            buffer.flush()
        else:  # a text-only stream (tests, embedding)
            sys.stdout.write(data.decode("utf-8", "replace"))
    return 0


def _send(args: argparse.Namespace, review: Review, lists: Sequence[str],
          replies: Sequence[Reply]) -> int:
    from reviewbot.report.lists import ListMatcher, list_ids
    from reviewbot.report.smtp import author_only, describe, send, smtp_settings

    ids = [a for sr in review.series
           for m in ([sr.series.cover] if sr.series.cover else []) + [p.mail for p in
                                                                      sr.series.patches]
           for a in list_ids(m.raw)]
    matcher = ListMatcher().with_addresses([*lists, *ids])
    settings = smtp_settings(to_lists=args.to_lists, lists=matcher,
                             need_server=not args.dry_run)
    if not replies:
        _status("nothing to send")
    failures = 0
    for reply in replies:
        out = reply if args.to_lists else author_only(reply)
        try:
            if args.dry_run:
                sys.stdout.write(describe(out, settings) + "\n")
            else:
                send(out, settings)
                _status(f"sent {out.subject!r} to "
                        + ", ".join(p.email for p in (*out.to, *out.cc)))
        except ReviewbotError as exc:
            _status(f"error: {exc}")
            failures += 1
    return failures


def _status(text: str) -> None:
    from reviewbot.printable import printable

    print(f"reviewbot: {printable(text)}", file=sys.stderr)


def cmd_rules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from reviewbot.ruleset import load_rules, rule_table
    from reviewbot.selection import check_keys, rule_keys

    rules = load_rules([Path(d) for d in args.rules_dir or ()] or None)
    select, ignore = _rule_keys(args.select), _rule_keys(args.ignore)
    check_keys(rules, select, "--select")
    check_keys(rules, ignore, "--ignore")
    wanted, unwanted = {k.lower() for k in select}, {k.lower() for k in ignore}
    rules = [r for r in rules if (not wanted or wanted & set(rule_keys(r)))
             and not unwanted & set(rule_keys(r))]
    if args.check:
        from reviewbot.examples import run_examples

        results = run_examples(rules)
        bad = [res for res in results if not res.ok]
        for res in results:
            if not res.ok or res.kind == "todo":
                print(f"{res.rule} example {res.index} ({res.kind}): {res.detail}")
        print(f"{len(results) - len(bad)} passed, {len(bad)} failed")
        return EXIT_FINDINGS if bad else EXIT_CLEAN
    from reviewbot.evaluate.measured import load as load_measured
    from reviewbot.evaluate.measured import short
    from reviewbot.ruleset import rules_dir

    measured = load_measured(rules_dir())
    sys.stdout.write(rule_table(rules, markdown=args.format == "markdown",
                                precision={r.id: short(measured.get(r.id)) for r in rules}))
    return EXIT_CLEAN


def cmd_eval(args: argparse.Namespace) -> int:
    from reviewbot.config import read_environment
    from reviewbot.evaluate.corpus import load_corpus
    from reviewbot.evaluate.report import render_eval_json, render_eval_text
    from reviewbot.evaluate.run import review_corpus
    from reviewbot.evaluate.score import score

    args.version_n = None
    settings = _settings(args)
    rules = _load_rules(settings)
    knowledge = _knowledge(args, read_environment(), index_only=True)
    if args.traffic or args.judged or args.recall or not args.directory:
        from reviewbot.evaluate.traffic_report import evaluate_traffic, render_traffic

        got = evaluate_traffic(args.traffic, args.judged, args.recall, settings, rules,
                               corpus=args.directory, knowledge=knowledge)
        sys.stdout.write(render_traffic(got, args.format))
        return EXIT_CLEAN if got.ok else EXIT_FINDINGS
    corpus = load_corpus(args.directory)
    result = score(corpus, review_corpus(corpus, settings, rules, per_patch=args.per_patch,
                                         knowledge=knowledge))
    render = render_eval_json if args.format == "json" else render_eval_text
    sys.stdout.write(render(result, knowledge.describe() if knowledge is not None else ""))
    return EXIT_CLEAN


def cmd_explain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from reviewbot.evaluate.measured import describe
    from reviewbot.evaluate.measured import load as load_measured
    from reviewbot.report.explain import render_explain
    from reviewbot.ruleset import load_rules, rules_dir
    from reviewbot.selection import find_rule

    rules = load_rules([Path(d) for d in args.rules_dir or ()] or None)
    rule = find_rule(rules, args.rule)
    measured = describe(load_measured(rules_dir()).get(rule.id), "linux-block-2025-10.mbox")
    sys.stdout.write(render_explain(rule, measured))
    return EXIT_CLEAN


def cmd_watch(args: argparse.Namespace) -> int:
    import dataclasses
    import logging
    import signal
    from pathlib import Path

    from reviewbot.bot.log import LOGGER, BarAwareHandler, BarProgress
    from reviewbot.bot.policy import load_policy
    from reviewbot.bot.run import WatchOptions, default_state_path, run_watch, status_text
    from reviewbot.bot.watch import Stop
    from reviewbot.config import Settings, read_environment

    env = read_environment()
    policy = load_policy(Path(args.policy) if args.policy else None)
    if args.grace is not None:
        if args.grace < 0:
            raise ReviewbotError("--grace must be >= 0")
        policy = dataclasses.replace(policy, grace=args.grace)
    if args.interval is not None:
        if args.interval <= 0:
            raise ReviewbotError("--interval must be > 0")
        policy = dataclasses.replace(policy, poll_interval=args.interval)
    state = Path(args.state) if args.state else default_state_path(env)
    if args.status:
        sys.stdout.write(status_text(state, policy))
        return EXIT_CLEAN
    from reviewbot.ruleset import load_rules
    from reviewbot.selection import select_rules

    where = policy.source or "policy"
    select_rules(load_rules(list(policy.rules_dirs) or None),  # unknown rules: fail now
                 Settings(select=policy.select, ignore=policy.ignore, preview=policy.preview),
                 (f"{where}: [rules] select", f"{where}: [rules] ignore"))
    if not args.outbox:
        raise ReviewbotError("watch needs --outbox DIR (the Maildir where reply drafts go)")
    options = WatchOptions(tuple(Path(p) for p in args.maildir or ()),
                           tuple(u.rstrip("/") for u in args.lore_list or ()),
                           Path(args.outbox), state, args.once,
                           _knowledge(args, env, index_only=True))
    bar = BarProgress(sys.stderr) if sys.stderr.isatty() else None
    logger = logging.getLogger(LOGGER)
    handler = BarAwareHandler(sys.stderr, bar)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if os.environ.get("REVIEWBOT_DEBUG") else logging.INFO)
    logger.propagate = False
    stop = Stop()  # a signal ends the loop between two steps, or a long step at once
    old = {sig: signal.signal(sig, stop.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_watch(options, policy, stop, env, progress=bar)
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
        logger.removeHandler(handler)
    return EXIT_CLEAN


HANDLERS = {"check": cmd_check, "rules": cmd_rules, "eval": cmd_eval,
            "explain": cmd_explain, "watch": cmd_watch, "index": cmd_index}


def _terminated(signum: int, frame: object) -> NoReturn:
    """SIGTERM unwinds like an exception, so temporary trees are removed."""
    from reviewbot.signals import handled

    del frame
    handled()
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        sys.stdout.write(f"reviewbot {__version__}\n")  # what argparse prints, sooner
        return EXIT_CLEAN
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # the real command line, not a test calling main() in process
        import signal

        from reviewbot.signals import install_backstop
        from reviewbot.streams import guard_standard_streams

        guard_standard_streams()
        signal.signal(signal.SIGTERM, _terminated)
        install_backstop()  # SIGTERM stops it even inside a long call into C
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        code = HANDLERS[args.command](args)
        sys.stdout.flush()  # a full disk is found here, not at exit
        return code
    except ReviewbotError as exc:
        _status(f"error: {exc}")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("REVIEWBOT_DEBUG"):
            raise
        _status(f"internal error: {type(exc).__name__}: {exc} "
                "(set REVIEWBOT_DEBUG=1 for a traceback)")
        return EXIT_ERROR
