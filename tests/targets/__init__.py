"""Apps that serve a correct conformance surface somewhere other than at the root."""
