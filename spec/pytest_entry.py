"""The ``pytest11`` entry point: streamspec in every pytest run of the environment, inert
until ``--streamspec-target`` names a target.

Installed, pytest loads this module in every run, a project's own included. It adds
one option, ``--streamspec-target``, and nothing else: no other option (the plugin's
``--target``, ``--server``, ``--rules`` would clash with a project's own), no fixture,
no hook that touches a project's tests, no hypothesis profile. Given the option, it
registers the plugin (:mod:`spec.plugin`: its options, fixtures and the rule report)
before the run's conftests load and its arguments are parsed, and counts the chapters
among the paths the run collects.

The plugin is asked for by its module name, as the repository's ``conftest.py``
(``pytest_plugins``) and ``streamspec check`` (``-p spec.plugin``) name it: pytest
registers a module once a name, and refuses one module under two names.
"""

from __future__ import annotations

import sys

import pytest

PLUGIN = "spec.plugin"
"""The plugin's module, registered under this name."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("streamspec", "streamspec: run the spec against a target").addoption(
        "--streamspec-target",
        default=None,
        help="an ASGI app (module:attribute) or the base URL of a running server: run the "
        "spec's chapters against it along with the tests named, the options of --target "
        "(--rules, --report-json, ...) then apply (for a run in your own project)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """With ``--streamspec-target``: register the plugin (its options join the parser, as
    a conftest's do) and count the chapters among the run's initial paths."""
    if not getattr(early_config.known_args_namespace, "streamspec_target", None):
        return
    early_config.pluginmanager.import_plugin(PLUGIN)
    sys.modules[PLUGIN].count_chapters_in(early_config)
