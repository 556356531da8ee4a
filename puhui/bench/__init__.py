"""`puhui bench`: the raw Kafka floor and the whole pipeline, measured in one run.

Benchmarks report figures; no test asserts a timing.
"""
