"""Knowledge of a kernel tree: ``reviewbot index`` builds it, checks look facts up.

``build`` walks a tree and extracts facts per file in worker processes (``extract``, a
lexical pass over ``lexer``'s cleaned text), ``store`` keeps them in one SQLite file per
tree under the XDG cache (``location``), ``derive`` works out the facts that need the
whole tree (which functions may sleep, which run in interrupt context), and ``lookup``
answers per-name questions from the file without loading it.
"""
