"""Throughput of ``reviewbot watch``: a synthetic backlog in a real Maildir, processed once.

    python benchmarks/watch_throughput.py [N_MESSAGES]

prints messages/s (and series/s) for ingesting, reviewing and drafting replies for a
backlog of N messages (default 1000): patch series with and without findings, revisions,
resends, replies, noise and duplicates (``tests/mailgen.py``). Importable:
``measure(n_messages) -> dict``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


class WatchBenchError(Exception):
    """The backlog was not reviewed (a throughput of failures means nothing)."""


class _Errors(logging.Handler):
    """Counts the error events of the run and keeps the first one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()


def _mailgen() -> ModuleType:
    """tests/mailgen.py by its path: the ``reviewbot`` imported is the one this
    interpreter has installed (what is being measured), not necessarily this checkout."""
    spec = importlib.util.spec_from_file_location("reviewbot_bench_mailgen",
                                                  ROOT / "tests" / "mailgen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _import_reviewbot() -> None:
    """An installed reviewbot wins; else this checkout's."""
    if importlib.util.find_spec("reviewbot") is None:
        sys.path.append(str(ROOT))


def measure(n_messages: int = 1000, seed: int = 0) -> dict[str, float | int]:
    """Process a backlog of about ``n_messages`` once; timings and counts.

    Raises WatchBenchError when any series failed to review (say, reviewbot's
    dependencies are missing in this interpreter) or none was reviewed."""
    _import_reviewbot()
    from reviewbot.bot.log import EventLog
    from reviewbot.bot.outbox import Outbox
    from reviewbot.bot.policy import Policy
    from reviewbot.bot.sources import MaildirSource
    from reviewbot.bot.state import Store
    from reviewbot.bot.watch import Watcher

    mailgen = _mailgen()
    quiet = logging.getLogger("reviewbot.benchmark.watch")
    errors = _Errors()
    quiet.addHandler(errors)
    quiet.propagate = False
    backlog = mailgen.backlog(n_messages, seed)
    with tempfile.TemporaryDirectory(prefix="reviewbot-watch-bench-") as tmp:
        root = Path(tmp)
        maildir = mailgen.make_maildir(root / "inbox")
        mailgen.deliver(maildir, backlog.messages)
        store = Store(root / "state.sqlite")
        try:
            watcher = Watcher(store, [MaildirSource(maildir)], Outbox(root / "outbox"),
                              Policy(grace=0), log=EventLog(quiet))
            start = time.perf_counter()
            totals = watcher.run(once=True)
            seconds = time.perf_counter() - start
        finally:
            store.close()
            quiet.removeHandler(errors)
    if errors.count or not totals.series_reviewed:
        raise WatchBenchError(f"{errors.count} error(s), {totals.series_reviewed} series "
                              f"reviewed; first error: {errors.first or 'none'}")
    return {
        "messages": totals.messages,
        "series_reviewed": totals.series_reviewed,
        "replies": totals.replies,
        "seconds": round(seconds, 3),
        "messages_per_s": round(totals.messages / seconds, 1),
        "series_per_s": round(backlog.series / seconds, 1),
    }


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 1000
    try:
        result = measure(n)
    except WatchBenchError as exc:
        print(f"watch_throughput.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"watch: {result['messages']} messages in {result['seconds']} s: "
          f"{result['messages_per_s']} messages/s, {result['series_per_s']} series/s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
