"""Data that is not real: the demo market a first run shows, and synthetic markets of any
size for benchmarks."""
