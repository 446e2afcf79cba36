"""Make an untrusted string safe to print on a terminal or in a one-line log.

Everything reviewbot prints about its input (file paths from a diff, subjects,
Message-IDs, skip reasons, server answers) comes from mail that anyone can send. A
terminal obeys control characters: ``ESC ] 0 ; ... BEL`` sets the window title, ``ESC [
2 J`` clears the screen, a C1 control (U+0080-U+009F, such as CSI U+009B) does the same
in one character, a CR or a newline forges an output line, and bidirectional overrides
reorder what is shown. :func:`printable` writes each of them as a visible escape
(``\\x1b``, ``\\x9b``, ``\\u202e``); every other character, non-ASCII letters included,
is kept. Every printer (text, checkpatch, b4 descriptions, error lines, the watch log,
the watch status) passes untrusted strings through it.
"""

from __future__ import annotations

import re

# DEL, C1 controls, the Unicode line and paragraph separators, the bidirectional
# marks, embeddings, overrides and isolates ("Trojan Source"), and lone surrogates
# (bytes that were not UTF-8: they cannot even be encoded for output)
_WIDE = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
# ... and the C0 controls (tab and newline included: one printed item is one line)
_UNSAFE = re.compile(f"[\x00-\x1f{_WIDE}]")
# what JSON does not escape itself (json.dumps writes every C0 control as \u00XX)
_UNSAFE_IN_JSON = re.compile(f"[{_WIDE}]")
# what a multi-line text keeps (its lines and their tabs): the reply mbox on a terminal
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_WIDE}]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as a visible escape."""
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """``text`` as :func:`printable` writes it, but keeping its newlines and tabs: a
    whole message (the replies) printed on a terminal."""
    return _UNSAFE_IN_LINES.sub(_escape, text)


def json_printable(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the controls JSON leaves
    as they are (DEL, C1, bidirectional, separators) written as ``\\uXXXX``: the same
    JSON values, nothing a terminal obeys. Only strings hold such characters, so the
    text is replaced as a whole."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
