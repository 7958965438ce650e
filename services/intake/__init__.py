"""Intake service (tiếp nhận hồ sơ)."""
