"""Implementations that break the spec on purpose, each in one known way.

The suite is only worth something if it fails on them, with the right rule
IDs: ``tests/test_suite_fails.py`` shows that it does.
"""
