"""Signing service (ký số kết quả)."""
