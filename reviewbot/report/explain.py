"""``reviewbot explain ID``: a rule's documentation and examples as plain text."""

from __future__ import annotations

import textwrap

from reviewbot.engine.schema import Rule


def _para(title: str, text: str) -> list[str]:
    body = " ".join(text.split())
    return [title, *textwrap.wrap(body, 72, initial_indent="  ", subsequent_indent="  "), ""]


def render_explain(rule: Rule, measured: str = "") -> str:
    """The rule's documentation; ``measured``: its precision on judged list traffic."""
    assert rule.docs is not None, "explain needs the rules read whole (load_rules)"
    out = [f"{rule.id} {rule.name} ({rule.category}, class {rule.cls})",
           f"severity {rule.severity}, confidence {rule.confidence}, status {rule.status}, "
           f"since {rule.since}", f"applies to: {', '.join(rule.paths)}", "",
           *_para("What it flags", rule.docs.what), *_para("Why", rule.docs.why),
           *_para("How to fix", rule.docs.fix),
           *_para("False positives", rule.docs.false_positives)]
    if measured:
        out += _para("Measured precision", measured)
    if rule.docs.references:
        out += ["References", *(f"  - {r}" for r in rule.docs.references), ""]
    for n, ex in enumerate(rule.examples, start=1):
        note = f": {ex.note}" if ex.note else ""
        out.append(f"Example {n} ({ex.kind}, {ex.path}){note}")
        several = len(ex.patches) > 1
        for i, spec in enumerate(ex.patches, start=1):
            if several or spec.subject:
                out.append(f"  patch {i}/{len(ex.patches)}"
                           + (f": {spec.subject}" if spec.subject else ""))
            if spec.message:
                out += ["  | " + ln for ln in spec.message.strip("\n").splitlines()]
            for path, file_spec in spec.file_specs(ex.path):
                if spec.files:
                    out.append(f"  {path}:")
                text = file_spec.code or file_spec.after or file_spec.diff or ""
                if file_spec.before is not None:
                    out.append("  before:")
                    out += ["    " + ln for ln in file_spec.before.strip("\n").splitlines()]
                    out.append("  after:")
                out += ["    " + ln for ln in text.strip("\n").splitlines()]
        out.append("")
    return "\n".join(out)
