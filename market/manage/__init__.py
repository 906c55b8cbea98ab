"""The back office shared by volunteers, vendors and coordinators."""
