"""What the suite runs against: an ASGI app named by import path.

``--target=package.module:attribute`` names an ASGI application. The suite
calls it in-process at the message level and serves it with uvicorn on
loopback for the wire-level checks.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from spec.targets.asgi_types import ASGIApp

DEFAULT_TARGET = "impl.app:app"


class TargetError(Exception):
    """The target cannot be loaded; the message says why, for the person who named it."""


@dataclass(frozen=True)
class Target:
    """A target the suite validates."""

    name: str
    app: ASGIApp


def load_target(name: str) -> Target:
    """Import the ASGI app named ``module:attribute``."""
    module_name, sep, attribute = name.partition(":")
    if not sep or not module_name or not attribute:
        raise TargetError(f"--target={name!r}: expected module:attribute, e.g. {DEFAULT_TARGET}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TargetError(f"--target={name!r}: cannot import {module_name}: {error}") from error
    app: object = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise TargetError(f"--target={name!r}: {module_name} has no {attribute}") from None
    if not callable(app):
        raise TargetError(f"--target={name!r}: {attribute} is not an ASGI app (not callable)")
    return Target(name, app)
