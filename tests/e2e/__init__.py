"""Browser journeys in real Chromium against the app served by gunicorn."""
