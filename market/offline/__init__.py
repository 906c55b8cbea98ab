"""The installable, offline-capable back office: manifest, service worker, logout check."""
