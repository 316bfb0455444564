"""Shared master data every app reads: the factory's data dictionary."""
