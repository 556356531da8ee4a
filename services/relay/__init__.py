"""The outbox relay: publishes outbox rows in order with the idempotent producer."""
