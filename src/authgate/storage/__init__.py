"""Storage: small repository interfaces (``base``) and their SQL implementation (``sql``)."""
