"""``reviewbot eval DIR``: measure reviewbot against real reviews (a manifest.json corpus)."""
