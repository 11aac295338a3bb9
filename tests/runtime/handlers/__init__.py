"""Tiny Lambda handlers the runtime tests run in real execution environments."""
