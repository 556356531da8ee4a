"""A seeded, reproducible synthetic population and feed for `puhui generate`.

Same options and seed, same bytes: every random draw comes from one `random.Random(seed)`.
"""
