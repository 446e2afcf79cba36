"""The bundled rules, installed as the package ``reviewbot.rules``.

One folder per rule: ``<category>/<rule_name>/rule.toml`` (id, name, wording, docs,
params, examples) and, when the rule needs Python, ``check.py`` beside it. How a rule is
written: docs/writing-rules.md; how the checks are found: ``reviewbot/ruleset.py``.
"""
