"""Operating an installation: backup and restore, and housekeeping of stored files."""
