"""Business rules, free of request and response objects."""
