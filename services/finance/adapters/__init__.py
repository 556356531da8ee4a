"""PostgreSQL for finance: SQL as constants, asyncpg records turned into values at the edge."""
