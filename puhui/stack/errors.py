"""What can go wrong when running the stack, said once, with what to do about it."""

from __future__ import annotations


class StackError(Exception):
    """A stack problem a person can act on: what is wrong, and what to do."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}\n  → {remedy}")
        self.problem = problem
        self.remedy = remedy
