"""The knowledge index on real kernel code: Debian's linux-source-6.12 (slow; skipped
without the tarball, which .ci/run installs).

Only mm/, kernel/locking/, include/linux/ and drivers/usb/gadget/udc/ are extracted from
/usr/src/linux-source-6.12.tar.xz, once, into ~/.cache/reviewbot/linux-6.12-knowledge
(never inside the repository); each run indexes them into a scratch cache and checks
facts a kernel developer knows to be true (and the traps known to be false).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree
from reviewbot.knowledge.lookup import Knowledge

TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
CACHE = Path.home() / ".cache" / "reviewbot" / "linux-6.12-knowledge"
MEMBERS = ("Kbuild", "mm/*", "kernel/locking/*", "include/linux/*",
           "drivers/usb/gadget/udc/*")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not TARBALL.is_file(), reason=f"{TARBALL} is not installed "
                                 "(Debian package linux-source-6.12)")]


@pytest.fixture(scope="module")
def kernel() -> Path:
    tree = CACHE / "linux-source-6.12"
    if (tree / "Kbuild").is_file():
        return tree
    tmp = CACHE.with_name(CACHE.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["tar", "-xJf", str(TARBALL), "-C", str(tmp), "--wildcards",
                    *(f"linux-source-6.12/{m}" for m in MEMBERS)], check=True)
    shutil.rmtree(CACHE, ignore_errors=True)
    tmp.rename(CACHE)
    return tree


@pytest.fixture(scope="module")
def know(kernel: Path, tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    env = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    result = build_index(find_tree(kernel), jobs=2, env=env)
    assert result.files > 2500 and not result.skipped
    k = Knowledge.open(kernel, env)
    assert k is not None
    return k


def test_sleeping_primitives(know: Knowledge) -> None:
    lock = know.may_sleep("mutex_lock")
    assert lock is not None and lock.steps
    folio = know.may_sleep("folio_lock")
    assert folio is not None and folio.describe().startswith(
        "folio_lock() may sleep: it calls might_sleep() (include/linux/pagemap.h:")
    vmalloc = know.may_sleep("vmalloc")
    assert vmalloc is not None and "GFP_KERNEL" in vmalloc.describe()


@pytest.mark.parametrize("function", [
    "kmalloc", "kfree", "kmem_cache_alloc", "__alloc_pages", "alloc_pages",
    "get_page_from_freelist", "free_pages", "__free_pages", "rmqueue", "vfree",
])
def test_allocation_and_freeing_do_not_sleep_by_themselves(know: Knowledge,
                                                           function: str) -> None:
    """The GFP flags come from the caller (kmalloc(..., GFP_ATOMIC) does not sleep), and
    freeing never sleeps: no chain may claim they do."""
    assert know.may_sleep(function) is None


def test_zone_lock(know: Knowledge) -> None:
    lock = know.lock("<struct zone*>->lock")
    assert lock.lock_class == "spinlock"
    assert [d.type for d in lock.declared] == ["spinlock_t"]
    assert lock.declared[0].site.file == "include/linux/mmzone.h"
    assert lock.flavours.get("spinlock irqsave", 0) >= 10
    assert all(a.site.file.startswith(("mm/", "include/")) for a in lock.acquires)


def test_struct_page_marked_accesses(know: Knowledge) -> None:
    head = know.member("struct page", "compound_head")
    assert head.counts.get(("read", "once"), 0) >= 2
    assert any(a.via == "READ_ONCE" and a.site.file == "include/linux/page-flags.h"
               for a in head.marked)
    refcount = know.member("struct page", "_refcount")
    assert refcount.total("atomic") >= 5 and refcount.total("plain") == 0


def test_irq_handlers_and_their_locks(know: Knowledge) -> None:
    (irq,) = know.contexts("net2280_irq")
    assert (irq.context, irq.reg_call) == ("hardirq", "request_irq")
    assert irq.registered.file == "drivers/usb/gadget/udc/net2280.c"
    taken = know.lock("<struct net2280*>->lock").taken_in("hardirq")
    assert taken is not None and taken.chain[0] == "net2280_irq"
    # an hrtimer started in a _SOFT mode runs in softirq context
    assert [c.context for c in know.contexts("dummy_timer")] == ["softirq"]


def test_definitions(know: Knowledge) -> None:
    assert {d.kind for d in know.defines("GFP_KERNEL")} == {"macro"}
    assert [d.site.file for d in know.defines("struct page.flags")] == [
        "include/linux/mm_types.h"]
    assert any(d.site.file == "mm/Kconfig" for d in know.defines("CONFIG_SLUB"))
    assert {d.kind for d in know.defines("folio_lock")} == {"function"}
