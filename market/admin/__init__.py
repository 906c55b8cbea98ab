"""Coordinator and admin pages: markets, staff, moderation, reports, audit log."""
