"""Every service's HTTP API fuzzed from its own OpenAPI document, in process (no servers)."""
