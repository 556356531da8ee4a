"""Puhui (普惠): union member-card benefits, paid automatically and provably."""

__version__ = "0.1.0"
