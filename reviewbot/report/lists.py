"""Which addresses are mailing lists (an automated review goes to lists only on request).

An address is a list when
- its domain is a well-known list host: ``vger.kernel.org``, ``kvack.org``,
  ``lists.*`` / ``*.lists.*`` (lists.infradead.org, lists.linux.dev, lists.ozlabs.org,
  lists.freedesktop.org, ...), ``googlegroups.com``, ``groups.io``, ``nongnu.org``,
  ``alsa-project.org``, ``ml.*``;
- or a ``List-Id:`` header of the reviewed mails names it (``<linux-mm.kvack.org>``
  stands for ``linux-mm@kvack.org``);
- or the config file's ``[reply] lists`` names it (an address or an fnmatch glob such as
  ``*@example.org``; case does not matter).
"""

from __future__ import annotations

import email.policy
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser

LIST_DOMAINS = ("vger.kernel.org", "kvack.org", "googlegroups.com", "groups.io",
                "nongnu.org", "alsa-project.org")
_LIST_ID = re.compile(r"<([A-Za-z0-9._+-]{1,200})>")


@dataclass(frozen=True)
class ListMatcher:
    """Recognises list addresses: built-in domains, List-Id addresses, configured globs."""

    extra: tuple[str, ...] = ()  # lower-case addresses or globs

    def is_list(self, address: str) -> bool:
        addr = address.strip().lower()
        if "@" not in addr:
            return False
        domain = addr.rsplit("@", 1)[1]
        if domain in LIST_DOMAINS or any(domain.endswith("." + d) for d in LIST_DOMAINS):
            return True
        labels = domain.split(".")
        if len(labels) >= 3 and ("lists" in labels[:-2] or labels[0] == "ml"):
            return True
        return any(fnmatch.fnmatchcase(addr, pat) for pat in self.extra)

    def with_addresses(self, more: Iterable[str]) -> ListMatcher:
        new = tuple(dict.fromkeys([*self.extra, *(m.strip().lower() for m in more if m)]))
        return ListMatcher(new)


def list_id_address(value: str) -> str | None:
    """``List-Id: Linux MM <linux-mm.kvack.org>`` -> ``linux-mm@kvack.org``.

    The list id is ``local.domain``; the domain is taken as the last two labels, or
    three when the last two look like a known list host (``vger.kernel.org``).
    """
    m = _LIST_ID.search(value)
    if not m:
        return None
    labels = m.group(1).strip(".").split(".")
    if len(labels) < 3:
        return None
    for host in LIST_DOMAINS:
        parts = host.split(".")
        if labels[-len(parts):] == parts and len(labels) > len(parts):
            return ".".join(labels[:-len(parts)]) + "@" + host
    return ".".join(labels[:-2]) + "@" + ".".join(labels[-2:])


def list_ids(raw: bytes) -> tuple[str, ...]:
    """The list addresses named by the ``List-Id`` headers of one raw message."""
    msg = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    out = []
    for value in msg.get_all("List-Id", []):
        addr = list_id_address(" ".join(str(value).split()))
        if addr:
            out.append(addr.lower())
    return tuple(out)
