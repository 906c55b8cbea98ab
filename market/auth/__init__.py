"""Login, logout, invitation claim and password change."""
