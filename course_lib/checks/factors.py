"""Checkers for this chapter's exercises (see course_lib.checks)."""
from __future__ import annotations

__all__: list[str] = []
