"""cmap stage."""
