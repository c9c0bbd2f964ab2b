"""Minimal reproductions of a server's own behaviour, apart from streamspec's code."""
