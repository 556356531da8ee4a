"""The event contract: one module per Kafka topic, pydantic v2 models, frozen."""
