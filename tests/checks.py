"""Reach the check functions of a chapter, to run them against broken implementations."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest

from spec.intermediaries.asgi import behind, untraced
from spec.intermediaries.nginx import NginxUnavailable, running_nginx
from spec.probe import fetch_capabilities
from spec.rules import REGISTRY
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import AsgiClient, SocketClient
from spec.targets.server import serve
from spec.targets.target import Target


def checks_of(prefix: str) -> list[tuple[str, str, Callable[..., Any]]]:
    """``(rule ID, check name, function)`` for every check of the rules whose ID starts so."""
    found = []
    for rule in REGISTRY.values():
        if rule.id.startswith(prefix):
            for check in rule.checks:
                function = getattr(importlib.import_module(check.module), check.name)
                found.append((rule.id, check.name, function))
    return found


def is_property(function: Callable[..., Any]) -> bool:
    """Whether the check is a hypothesis property (run by pytest, not called directly)."""
    return hasattr(function, "hypothesis")


class Surroundings:
    """Serves an app (alone, behind middleware, behind nginx) on demand, until closed.

    It gives each fixture a check can take every value it takes for the app
    (both transports for ``stream_client``, and so on); a ``with`` block closes it.
    """

    def __init__(self, app: ASGIApp, name: str = "broken") -> None:
        self.app = app
        self.name = name
        self.stack = ExitStack()
        self.urls: dict[str, str] = {}

    def __enter__(self) -> Surroundings:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.stack.close()

    def url(self, via: str = "direct") -> str:
        if via not in self.urls:
            app = (
                self.app
                if via == "direct"
                else behind(self.app, "gzip" if via == "gzip" else "basehttp")
            )
            self.urls[via] = self.stack.enter_context(
                serve(app if via == "direct" else untraced(app))
            )
        return self.urls[via]

    def nginx(self) -> str:
        if "nginx" not in self.urls:
            try:
                self.urls["nginx"] = self.stack.enter_context(running_nginx(self.url()))
            except NginxUnavailable as error:
                pytest.skip(f"nginx: {error}")
        return self.urls["nginx"]

    def values(self, fixture: str) -> list[Any]:
        """Every value the fixture *fixture* takes for this app."""
        if fixture == "stream_client":
            return [AsgiClient(self.app), SocketClient(self.url())]
        if fixture in ("gzip_client", "basehttp_client"):
            via = fixture.removesuffix("_client")
            wrapped = behind(self.app, "gzip" if via == "gzip" else "basehttp")
            return [AsgiClient(wrapped), SocketClient(self.url(via))]
        if fixture == "live_url":
            return [self.url()]
        if fixture == "target":
            return [Target(self.name, self.app)]
        if fixture == "nginx_url":
            return [self.nginx()]
        raise AssertionError(f"no value for fixture {fixture}")


async def failing_variants(check: Callable[..., Any], where: Surroundings) -> list[str]:
    """The fixture values on which *check* raised, each with the error, empty if it passed.

    A check takes one fixture that varies (a client, a URL, the target) and, if it
    asks, the ``capabilities`` the app declares.
    """
    fixtures = [name for name in inspect.signature(check).parameters if name != "capabilities"]
    (fixture,) = fixtures
    extra: dict[str, Any] = {}
    if "capabilities" in inspect.signature(check).parameters:
        extra["capabilities"] = await fetch_capabilities(AsgiClient(where.app))
    failed = []
    for value in where.values(fixture):
        try:
            await check(**{fixture: value}, **extra)
        except pytest.skip.Exception:
            pass  # not observable or not applicable: not a failure, and never a pass either
        except Exception as error:
            failed.append(f"{getattr(value, 'transport', value)}: {type(error).__name__}: {error}")
    return failed
