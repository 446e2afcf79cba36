"""reviewbot: a patch-review assistant for the Linux kernel mailing lists.

Importing the package does nothing but define the version; every stage lives in its
own subpackage (fetch -> series -> diff -> cmap -> engine -> report).
"""

__version__ = "0.1.0"
