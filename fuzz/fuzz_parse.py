"""atheris fuzz target for the parse path: bytes -> messages -> mails -> series -> diff ->
C map -> rules -> every report format (text, JSON, checkpatch, b4-json) and the
interleaved replies with their mbox (the default output off a terminal), to every patch
and the cover letter.

    python fuzz/fuzz_parse.py [-max_total_time=60] [-timeout=20] [CORPUS_DIR [SEED_DIR ...]]

Every input must end in a Review or a ReviewbotError (what the command line turns into a
one-line error and exit 2); anything else is a crash that atheris reports with the input
(an input that runs longer than -timeout seconds counts as a crash too: a hang). The
first directory collects the inputs libFuzzer finds interesting; without directories a
temporary one is used, seeded from fixtures/series. A crash found here becomes a
regression test in tests/test_hostile_input.py.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.shapes
from tests.shapes import SHAPES

with atheris.instrument_imports():
    from reviewbot.cmap.parser import CParser
    from reviewbot.config import Settings
    from reviewbot.errors import ReviewbotError
    from reviewbot.fetch.local import read_bytes
    from reviewbot.pipeline import review_messages, select_rules
    from reviewbot.report.b4json import render_b4_json
    from reviewbot.report.checkpatch import render_checkpatch
    from reviewbot.report.json import render_json
    from reviewbot.report.mbox import mbox_bytes
    from reviewbot.report.reply import ReplyConfig, render_replies
    from reviewbot.report.text import render_text
    from reviewbot.ruleset import load_rules
    from reviewbot.series.model import Person

SETTINGS = Settings()
RULES = select_rules(load_rules(None), SETTINGS)
PARSER = CParser()
REPLIES = ReplyConfig(Person("Fuzz Reviewer", "fuzz@example.org"),
                      datetime(2026, 1, 1, tzinfo=UTC), signature="Fuzz",
                      all_patches=True, summary=True)


def one_input(data: bytes) -> None:
    try:
        messages = read_bytes(data, "fuzz", "fuzz", SETTINGS.max_input_bytes)
        review = review_messages(messages, SETTINGS, RULES, PARSER)
    except ReviewbotError:
        return
    render_text(review)
    render_json(review)
    render_checkpatch(review)
    render_b4_json(review)
    mbox_bytes([r for sr in review.series for r in render_replies(sr, REPLIES)])


SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "series"


# The large shapes of tests/shapes.py at sizes under -max_len (64 KiB): dense tokens,
# deep nesting (C, and MIME past Python's recursion limit), many hunks, many lock
# regions (nested and in a row), a rewritten block.
SHAPE_SEEDS = {"dense": 6_000, "deep": 3_000, "mime": 1_000, "hunks": 800, "locks": 800,
               "lock-sequence": 300, "rewrite": 1_500}


def generated_seeds(corpus: Path) -> None:
    """Shapes no fixture has, written into the corpus directory: a patch Cc'd to more
    addresses than a reply keeps (lists among them), and the shapes above."""
    cc = ",\n ".join(f"list{i}@vger.kernel.org" if i % 9 == 0 else f"P {i} <p{i}@example.org>"
                     for i in range(1200))
    (corpus / "seed-huge-cc.eml").write_text(
        f"From: Ada <ada@example.org>\nCc: {cc}\nSubject: [PATCH] frob: x\n\nx\n---\n"
        "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,6 @@\n int f(int x)\n {\n+\tif (x) {\n+\t\tx++;\n"
        "+\t}\n }\n")
    for name, size in SHAPE_SEEDS.items():
        (corpus / f"seed-{name}.eml").write_bytes(SHAPES[name](size))


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):
        argv += [tempfile.mkdtemp(prefix="reviewbot-fuzz-"), str(SEEDS)]
    generated_seeds(Path(next(a for a in argv[1:] if not a.startswith("-"))))
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
