"""Migration scripts, loaded by Alembic in revision order (not imported as a package)."""
