"""What every Puhui service shares: the PostgreSQL pool and migrations, the batch consumer,
the outbox, dead letters, metrics and the run loop. Kafka and asyncpg details stay here."""
