"""Implementations that read the spec another way than the reference: allowed, they must pass."""
