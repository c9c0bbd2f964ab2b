"""Load the streamspec plugin for every run in this repository (specs and tests alike)."""

pytest_plugins = ["spec.plugin"]
