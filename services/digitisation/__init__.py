"""Digitisation service (số hóa hồ sơ, kết quả)."""
