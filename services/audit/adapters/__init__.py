"""PostgreSQL and Prometheus for the audit service; asyncpg errors never leave this package."""
