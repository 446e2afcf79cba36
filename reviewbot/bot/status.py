"""``reviewbot watch --status``: the queue, what waits to go out, and the last errors."""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.bot.log import iso
from reviewbot.bot.state import SERIES_STATES, Store
from reviewbot.bot.trigger import due_reason, is_complete
from reviewbot.printable import printable

MESSAGE_STATUSES = ("patch", "cover", "ignored", "duplicate", "late", "bad")
REPLY_STATUSES = ("pending", "sending", "drafted", "sent", "uncertain", "failed")


def _counts(counts: dict[str, int], order: tuple[str, ...]) -> str:
    parts = [f"{k} {counts[k]}" for k in order if counts.get(k)]
    return ", ".join(parts) if parts else "none"


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def render_status(store: Store, now: float, grace: float, policy: Sequence[str] = (),
                  errors: int = 10) -> str:
    """The status report; ``policy`` describes the policy in force (its ``grace`` times
    the waiting series)."""
    lines = [f"state: {store.path}", *policy]
    msgs = store.message_counts()
    lines.append(f"messages: {sum(msgs.values())} ({_counts(msgs, MESSAGE_STATUSES)})")
    lines.append(f"series: {_counts(store.state_counts(), SERIES_STATES)}")
    lines.append(f"replies: {_counts(store.reply_counts(), REPLY_STATUSES)}")

    waiting = store.waiting()
    lines.append("")
    lines.append(f"waiting series ({len(waiting)}):" if waiting else "waiting series: none")
    for row in waiting:
        have = sorted(i for i in row.parts if i > 0)
        cover = ", cover" if 0 in row.parts else (", no cover" if row.total > 1 else "")
        why = due_reason(row.total, set(row.parts), row.last_seen, row.last_date, now, grace)
        if is_complete(row.total, set(row.parts)):
            when = "complete: reviewed on the next cycle"
        elif why:
            when = "grace period over: reviewed on the next cycle"
        else:
            newest = min(row.last_seen, row.last_date) if row.last_date else row.last_seen
            when = f"incomplete, reviewed in {_age(newest + grace - now)} if nothing arrives"
        lines.append(f"  #{row.id} {row.subject}")
        lines.append(f"      v{row.version}, {len(have)}/{row.total} patches{cover}, "
                     f"first seen {_age(now - row.first_seen)} ago; {when}")

    queued = store.replies_in(["pending", "sending"])
    lines.append("")
    lines.append(f"replies to deliver ({len(queued)}):" if queued else "replies to deliver: none")
    for reply in queued:
        held = reply.held or ("retry after a send failure" if reply.attempts else "next cycle")
        lines.append(f"  #{reply.series_id}.{reply.seq} {reply.channel} <{reply.msgid}>: "
                     f"{reply.status}, {held}")

    recent = store.errors(errors)
    lines.append("")
    lines.append(f"last errors ({len(recent)}):" if recent else "last errors: none")
    for err in recent:
        lines.append(f"  {iso(err.ts)} {err.scope} {err.ref}: {err.reason}")
    return "\n".join(map(printable, lines)) + "\n"
