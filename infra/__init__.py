"""Local operations of the platform: start/stop a stack, status, load, dead-letter replay."""
