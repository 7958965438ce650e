"""Payment service (thanh toán phí, lệ phí trực tuyến)."""
