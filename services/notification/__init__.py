"""Notification service (thông báo cho công dân)."""
