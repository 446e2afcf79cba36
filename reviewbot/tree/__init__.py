"""Kernel-tree mode: find the tree, apply a series in a temporary index, read post-images."""
