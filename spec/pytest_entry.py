"""The ``pytest11`` entry point: loads :mod:`spec.plugin` in every pytest run of the environment.

A module of its own, not the plugin itself, so that the plugin is registered once
under its module name however many ways name it: the repository's ``conftest.py``
(``pytest_plugins``), ``-p spec.plugin`` (``streamspec check``) and this entry
point. pytest registers a module once a name, and refuses one module under two
names; here the entry point registers this module, which asks for the plugin by
the name the others use.
"""

pytest_plugins = ["spec.plugin"]
