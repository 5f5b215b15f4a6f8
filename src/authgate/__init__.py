"""authgate."""
