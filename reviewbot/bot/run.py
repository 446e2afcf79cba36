"""Build a watcher from command-line options (the CLI's only entry into ``bot``)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.bot.delivery import Sender
from reviewbot.bot.log import EventLog, NoProgress, Progress, iso
from reviewbot.bot.outbox import Outbox
from reviewbot.bot.policy import DEFAULT_IDENTITY, Policy, describe
from reviewbot.bot.sources import MaildirSource, Source
from reviewbot.bot.state import Store
from reviewbot.bot.watch import Totals, Watcher
from reviewbot.config import Environment
from reviewbot.errors import ConfigError

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource

POLICY_KEY = "policy"  # the state's meta entry holding the policy in force


def default_state_path(environment: Environment) -> Path:
    """``$XDG_STATE_HOME/reviewbot/watch.sqlite`` (default ``~/.local/state/...``)."""
    return environment.state_dir() / "watch.sqlite"


@dataclass(frozen=True)
class WatchOptions:
    maildirs: tuple[Path, ...]
    lore_lists: tuple[str, ...]
    outbox: Path
    state: Path
    once: bool = False
    knowledge: KnowledgeSource | None = None  # the tree's index the checks use, if any


def with_identity(policy: Policy, environment: Environment) -> Policy:
    """The policy with the replies' From: set: ``[reply] from``, else who `check --reply`
    signs as (REVIEWBOT_FROM, the config file, git user.*); drafts fall back to a
    placeholder, sending needs a real address."""
    if policy.identity is not None:
        return policy
    from reviewbot.userconfig import reviewer_identity

    try:
        identity = reviewer_identity(None, environment)
    except ConfigError as exc:
        if policy.send:
            raise ConfigError(f"the policy sends replies but has no [reply] from, and {exc}"
                              ) from exc
        identity = DEFAULT_IDENTITY
    return dataclasses.replace(policy, identity=identity)


def make_sources(options: WatchOptions, policy: Policy,
                 environment: Environment) -> list[Source]:
    sources: list[Source] = [MaildirSource(p) for p in options.maildirs]
    if options.lore_lists:
        from reviewbot.bot.lore import LoreSource
        from reviewbot.fetch.lore import lore_options

        # as `check` fetches: the config file's lore_timeout, else the default
        timeout = lore_options(environment.config).http.timeout
        sources.extend(LoreSource(url, interval=policy.lore_interval, timeout=timeout)
                       for url in options.lore_lists)
    if not sources:
        raise ConfigError("watch needs at least one --maildir DIR or --lore-list URL")
    return sources


def record_policy(store: Store, policy: Policy, now: float) -> None:
    """Keep the policy in force in the state, for ``--status``."""
    record = {"recorded": now, "grace": policy.grace, "lines": describe(policy)}
    with store.transaction():
        store.set_meta(POLICY_KEY, json.dumps(record))


def run_watch(options: WatchOptions, policy: Policy, stop: threading.Event,
              environment: Environment, log: EventLog | None = None,
              progress: Progress | None = None, sender: Sender | None = None) -> Totals:
    outbox_dir = options.outbox.resolve()
    for maildir in options.maildirs:
        if maildir.resolve() == outbox_dir:
            raise ConfigError(f"--outbox {options.outbox} is also a --maildir: the drafts "
                              "must go to a Maildir of their own")
    policy = with_identity(policy, environment)
    sources = make_sources(options, policy, environment)
    outbox = Outbox(options.outbox)
    if policy.send and sender is None:
        from reviewbot.bot.send import smtp_sender

        sender = smtp_sender(policy)
    store = Store(options.state, lock=True)
    try:
        record_policy(store, policy, time.time())
        watcher = Watcher(store, sources, outbox, policy, sender=sender, clock=time.time,
                          log=log or EventLog(), progress=progress or NoProgress(), stop=stop,
                          knowledge=options.knowledge)
        return watcher.run(once=options.once)
    finally:
        store.close()


def _recorded(store: Store) -> tuple[float, float, list[str]] | None:
    """(when, grace, lines) of the policy the last watcher on this state ran with."""
    text = store.meta(POLICY_KEY)
    try:
        record = json.loads(text) if text else None
        if not isinstance(record, dict):
            return None
        when, grace, lines = record["recorded"], record["grace"], record["lines"]
        if isinstance(when, int | float) and isinstance(grace, int | float) \
                and isinstance(lines, list) and all(isinstance(x, str) for x in lines):
            return float(when), float(grace), lines
    except (ValueError, KeyError):
        pass
    return None


def status_text(state: Path, fallback: Policy, now: float | None = None) -> str:
    """``--status``: the queue under the policy the watcher recorded in the state (the
    one in force), else under ``fallback`` (what --policy/--grace say, or the defaults)."""
    from reviewbot.bot.status import render_status

    store = Store(state, readonly=True)
    try:
        recorded = _recorded(store)
        if recorded is not None:
            when, grace, lines = recorded
            header = [f"{lines[0]} (in force: recorded by the watcher at {iso(when)})",
                      *lines[1:]]
        else:
            grace = fallback.grace
            lines = describe(fallback)
            header = [f"{lines[0]} (no watcher has recorded its policy in this state; "
                      "assumed)", *lines[1:]]
        return render_status(store, time.time() if now is None else now, grace, header)
    finally:
        store.close()
