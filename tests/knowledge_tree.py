"""A small kernel-shaped tree written for the tests of the checks that use the index,
and patch emails made from unified diffs."""

from __future__ import annotations

from pathlib import Path

from reviewbot.fetch.local import RawMessage
from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree

FILES = {
    "MAINTAINERS": "List of maintainers\n",
    "include/linux/dev.h": """\
struct dev {
	spinlock_t lock;
	spinlock_t irq_lock;
	raw_spinlock_t raw_lock;
	struct mutex mutex;
	struct completion done;
	int state;
	int irq;
};
""",
    "drivers/dev/core.c": """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/dev.h>

static void dev_wait(struct dev *d)
{
	wait_for_completion(&d->done);
}

int dev_sync(struct dev *d)
{
	dev_wait(d);
	return 0;
}

int dev_poke(struct dev *d)
{
	d->state++;
	return 0;
}

static irqreturn_t dev_irq(int irq, void *data)
{
	struct dev *d = data;

	spin_lock(&d->irq_lock);
	d->state = 1;
	spin_unlock(&d->irq_lock);
	dev_poke(d);
	return IRQ_HANDLED;
}

int dev_probe(struct dev *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->irq_lock, flags);
	d->state = 0;
	spin_unlock_irqrestore(&d->irq_lock, flags);
	return request_irq(d->irq, dev_irq, 0, "dev", d);
}

void dev_update(struct dev *d)
{
	spin_lock(&d->lock);
	d->state = 2;
	spin_unlock(&d->lock);
}
""",
    "kernel/sched/core.c": """\
void __sched schedule(void)
{
	__schedule(0);
}
""",
}


def write_tree(top: Path) -> Path:
    for name, text in FILES.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return top


def indexed_tree(top: Path, env: dict[str, str]) -> Path:
    """The tree written at ``top``, indexed into ``env``'s XDG cache."""
    write_tree(top)
    build_index(find_tree(top), jobs=1, env=env)
    return top


def patch_email(diff: str, n: int = 1, total: int = 1, subject: str = "dev: a change"
                ) -> RawMessage:
    head = [
        "From: Example Author <author@example.org>",
        "To: list@example.org",
        f"Subject: [PATCH {n}/{total}] {subject}" if total > 1 else f"Subject: [PATCH] {subject}",
        "Date: Thu, 01 Jan 2026 00:00:00 +0000",
        f"Message-ID: <knowledge-{n}@example.org>",
    ]
    if n > 1:
        head += ["In-Reply-To: <knowledge-1@example.org>",
                 "References: <knowledge-1@example.org>"]
    body = ["", "A change.", "", "Signed-off-by: Example Author <author@example.org>", "---"]
    text = "\n".join([*head, *body, diff.rstrip("\n"), "-- ", "2.43.0", ""])
    return RawMessage(text.encode(), f"patch {n}")
