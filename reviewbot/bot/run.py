"""Build a watcher from command-line options (the CLI's only entry into ``bot``)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from reviewbot.bot.delivery import Sender
from reviewbot.bot.log import EventLog, NoProgress, Progress
from reviewbot.bot.outbox import Outbox
from reviewbot.bot.policy import DEFAULT_IDENTITY, Policy
from reviewbot.bot.sources import MaildirSource, Source
from reviewbot.bot.state import Store
from reviewbot.bot.watch import Totals, Watcher
from reviewbot.errors import ConfigError


def default_state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "reviewbot" / "watch.sqlite"


@dataclass(frozen=True)
class WatchOptions:
    maildirs: tuple[Path, ...]
    lore_lists: tuple[str, ...]
    outbox: Path
    state: Path
    once: bool = False


def with_identity(policy: Policy) -> Policy:
    """The policy with the replies' From: set: ``[reply] from``, else who `check --reply`
    signs as (REVIEWBOT_FROM, the config file, git user.*); drafts fall back to a
    placeholder, sending needs a real address."""
    if policy.identity is not None:
        return policy
    from reviewbot.config import load_config
    from reviewbot.userconfig import reply_options, reviewer_identity

    try:
        cfg = load_config()
        identity = reviewer_identity(None, reply_options(dict(cfg.values), str(cfg.path)))
    except ConfigError as exc:
        if policy.send:
            raise ConfigError(f"the policy sends replies but has no [reply] from, and {exc}"
                              ) from exc
        identity = DEFAULT_IDENTITY
    return dataclasses.replace(policy, identity=identity)


def make_sources(options: WatchOptions, policy: Policy) -> list[Source]:
    sources: list[Source] = [MaildirSource(p) for p in options.maildirs]
    if options.lore_lists:
        from reviewbot.bot.lore import LoreSource

        sources.extend(LoreSource(url, interval=policy.lore_interval)
                       for url in options.lore_lists)
    if not sources:
        raise ConfigError("watch needs at least one --maildir DIR or --lore-list URL")
    return sources


def run_watch(options: WatchOptions, policy: Policy, stop: threading.Event,
              log: EventLog | None = None, progress: Progress | None = None,
              sender: Sender | None = None) -> Totals:
    outbox_dir = options.outbox.resolve()
    for maildir in options.maildirs:
        if maildir.resolve() == outbox_dir:
            raise ConfigError(f"--outbox {options.outbox} is also a --maildir: the drafts "
                              "must go to a Maildir of their own")
    policy = with_identity(policy)
    sources = make_sources(options, policy)
    outbox = Outbox(options.outbox)
    if policy.send and sender is None:
        from reviewbot.bot.send import smtp_sender

        sender = smtp_sender(policy)
    store = Store(options.state)
    try:
        store.lock()
        watcher = Watcher(store, sources, outbox, policy, sender=sender, clock=time.time,
                          log=log or EventLog(), progress=progress or NoProgress(), stop=stop)
        return watcher.run(once=options.once)
    finally:
        store.close()


def status_text(state: Path, policy: Policy, now: float | None = None) -> str:
    from reviewbot.bot.status import render_status

    store = Store(state, readonly=True)
    try:
        return render_status(store, time.time() if now is None else now, policy.grace)
    finally:
        store.close()
