"""Stats service: read models for dashboards (thống kê)."""
