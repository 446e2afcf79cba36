"""Packaging: the library, and the bundled rules of the top-level ``rules/`` folder,
shipped as the package ``reviewbot.rules``.

Every folder below ``reviewbot/`` and ``rules/`` is found here, so adding a module, a
rule or a rule category touches no list: a rule is its folder (``rule.toml``, and
``check.py`` when it needs Python). Everything else is in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, find_packages, setup

setup(
    packages=[*find_packages(include=["reviewbot", "reviewbot.*"]), "reviewbot.rules",
              *(f"reviewbot.rules.{p}" for p in find_namespace_packages(
                  "rules", exclude=["*__pycache__*"]))],
    package_dir={"reviewbot.rules": "rules"},
    package_data={"": ["*.toml"]},  # a rule folder's rule.toml
)
