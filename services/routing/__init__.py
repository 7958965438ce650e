"""Routing and processing service (luân chuyển, xử lý hồ sơ)."""
