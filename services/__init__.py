"""The motcua services. Each subpackage is one independently deployed service."""
