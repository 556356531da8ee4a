"""The local development stack: a real Kafka broker (KRaft) and a real PostgreSQL server.

`puhui stack up | down | status` run both on loopback, with all their data under one folder.
"""
