"""Fast tests of each service's handlers and HTTP rules, in process (see tests/harness.py)."""
