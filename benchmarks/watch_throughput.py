"""Throughput of ``reviewbot watch``: a synthetic backlog in a real Maildir, processed once.

    python benchmarks/watch_throughput.py [N_MESSAGES]

prints messages/s (and series/s) for ingesting, reviewing and drafting replies for a
backlog of N messages (default 1000): patch series with and without findings, revisions,
resends, replies, noise and duplicates (``tests/mailgen.py``). Importable:
``measure(n_messages) -> dict``.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def measure(n_messages: int = 1000, seed: int = 0) -> dict[str, float | int]:
    """Process a backlog of about ``n_messages`` once; timings and counts."""
    from reviewbot.bot.log import EventLog
    from reviewbot.bot.outbox import Outbox
    from reviewbot.bot.policy import Policy
    from reviewbot.bot.sources import MaildirSource
    from reviewbot.bot.state import Store
    from reviewbot.bot.watch import Watcher
    from tests import mailgen

    quiet = logging.getLogger("reviewbot.benchmark.watch")
    quiet.addHandler(logging.NullHandler())
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
    result = measure(n)
    print(f"watch: {result['messages']} messages in {result['seconds']} s: "
          f"{result['messages_per_s']} messages/s, {result['series_per_s']} series/s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
