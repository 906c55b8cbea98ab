"""Read-only JSON for the public catalogue."""
