"""What the suite runs against: an ASGI app, a running server, or a command that starts one.

Three kinds of target, named on the command line:

``--target=package.module:attribute``
    An ASGI application. The suite calls it in-process at the message level
    (the ``asgi`` transport) and serves it with uvicorn on loopback for the
    wire-level checks (the ``socket`` transport).
``--target=http://host:port``
    A server already running, in any language. Only the wire is observable:
    checks that need ASGI messages report *not observable*.
``--target-command="node server.js --port {port}"``
    A command that starts a server on the port the suite gives it. The suite
    starts it, waits until it accepts connections, and stops it at the end;
    like a URL target, only the wire is observable.

Any kind may expose the surface below a base path (``--target-prefix=/base``,
or the path of a URL target, ``http://host:port/base``): every request the
suite makes then names ``/base/conformance/...``, on the wire and in the
ASGI scopes it builds (the path under the prefix, ``root_path`` empty: the
suite serves the app at the root, and the app routes the prefix itself, as
one app exposing several implementations side by side does).

No kind imports the reference app unless it is named (it is the default).
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from spec.rules import not_observable
from spec.targets.asgi_types import ASGIApp
from spec.targets.command import CommandError, RunningCommand, refuses_connections, run_command
from spec.targets.server import (
    HTTP1,
    HTTP2,
    HTTP2_SERVERS,
    HTTP_VERSIONS,
    SERVERS,
    UVICORN,
    ServerUnavailable,
    serve,
    server_version,
)

DEFAULT_TARGET = "impl.app:app"

ASGI, URL, COMMAND = "asgi app", "running server", "command"


class TargetError(Exception):
    """The target cannot be loaded or started; the message says why, for the person who named it."""


@dataclass
class Target:
    """A target the suite validates.

    Attributes:
        name: how the person named it (``module:attr``, a URL, or the command).
        asgi_app: the ASGI callable, for ``asgi app`` targets only.
        url: the base URL, for ``running server`` targets only.
        command: the command line, for ``command`` targets only.
        prefix: the base path the surface lives under (``/base``), ``""`` at the root.
        server: the server an ASGI app is served with on the wire (``--server``).
        http: the HTTP version the wire-level checks speak (``--http``): ``"1.1"`` or
            ``"2"`` (h2c with prior knowledge, hypercorn and granian only).
        started: the running command while :meth:`serve` runs it.
        stderr: what a command target wrote to stderr, kept when it stops.
        expanded: for a command target once started, the command as it ran, its
            ``{port}`` and ``{python}`` filled in (``node server.js --port 41591``).
    """

    name: str
    asgi_app: ASGIApp | None = None
    url: str | None = None
    command: str | None = None
    prefix: str = ""
    server: str = UVICORN
    http: str = HTTP1
    started: RunningCommand | None = field(default=None, repr=False)
    stderr: str = field(default="", repr=False)
    expanded: str = ""

    @property
    def kind(self) -> str:
        """:data:`ASGI`, :data:`URL` or :data:`COMMAND`."""
        if self.asgi_app is not None:
            return ASGI
        return URL if self.url is not None else COMMAND

    @property
    def label(self) -> str:
        """The target as a report names it: its name, and the prefix unless the name says it."""
        if not self.prefix or urlsplit(self.name).path.rstrip("/") == self.prefix:
            return self.name
        return f"{self.name} (prefix {self.prefix})"

    @property
    def observes_asgi(self) -> bool:
        """Whether ASGI messages can be observed (the target is an ASGI app)."""
        return self.asgi_app is not None

    @property
    def app(self) -> ASGIApp:
        """The ASGI app; for any other target, the calling check is *not observable*."""
        if self.asgi_app is None:
            not_observable(
                f"ASGI messages: the target is a {self.kind} ({self.name}), not an ASGI app"
            )
        return self.asgi_app

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Make the target reachable over TCP while the block runs; yield its base URL.

        The base URL ends with the target's prefix (``http://127.0.0.1:PORT/base``):
        the suite's clients put every path below it.
        """
        with self._serve() as url:
            yield url + self.prefix

    @contextmanager
    def _serve(self) -> Iterator[str]:
        if self.asgi_app is not None:
            with serve(self.asgi_app, server=self.server, http=self.http) as url:
                yield url
        elif self.url is not None:
            parts = urlsplit(self.url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if refuses_connections(parts.hostname or "", port):
                raise TargetError(f"--target={self.name}: nothing accepts connections there")
            yield self.url
        else:
            assert self.command is not None
            try:
                with run_command(self.command) as running:
                    self.started = running
                    self.expanded = shlex.join(running.argv)
                    try:
                        yield running.url
                    finally:
                        self.stderr = running.stderr()
                        self.started = None
            except CommandError as error:
                raise TargetError(f"--target-command: {error}") from error


def load_target(
    name: str | None = None,
    *,
    command: str | None = None,
    prefix: str | None = None,
    server: str | None = None,
    http: str | None = None,
) -> Target:
    """The target named by ``--target`` (*name*) or ``--target-command`` (*command*),
    its surface below ``--target-prefix`` (*prefix*) or a URL target's path, an ASGI
    app served on the wire with ``--server`` (*server*, uvicorn when ``None``) over
    ``--http`` (*http*, 1.1 when ``None``; 2 only on a server that speaks it)."""
    given = None if prefix is None else normal_prefix(prefix, "--target-prefix")
    _refuse_impossible_http(http, name, command, server)
    if server is not None:
        if server not in SERVERS:
            raise TargetError(f"--server={server}: expected one of {', '.join(SERVERS)}")
        try:
            server_version(server)
        except ServerUnavailable as error:
            raise TargetError(str(error)) from None
    if command:
        if name:
            raise TargetError("give either --target or --target-command, not both")
        if "{port}" not in command:
            raise TargetError(
                f"--target-command={command!r}: the command must contain {{port}}, "
                "where the suite puts the port it chose"
            )
        if server is not None:
            raise TargetError("--server serves an ASGI app (--target=module:attr), not a command")
        return Target(command, command=command, prefix=given or "")
    name = name or DEFAULT_TARGET
    if name.startswith(("http://", "https://")):
        if server is not None:
            raise TargetError(f"--server serves an ASGI app, not a running server ({name})")
        return _url_target(name, given)
    url = address_as_url(name)
    if url is not None:
        raise TargetError(
            f"--target={name!r} is a server's address, not an app to import: "
            f"give its URL, --target={url}"
        )
    app = _import_app(name)
    return Target(name, app, prefix=given or "", server=server or UVICORN, http=http or HTTP1)


def _refuse_impossible_http(
    http: str | None, name: str | None, command: str | None, server: str | None
) -> None:
    """Raise :class:`TargetError` unless ``--http`` (*http*) can apply to the target: HTTP/2
    serves an ASGI app with a server that speaks it."""
    if http is not None and http not in HTTP_VERSIONS:
        raise TargetError(f"--http={http}: expected one of {', '.join(HTTP_VERSIONS)}")
    if http == HTTP2:
        if command or (name or "").startswith(("http://", "https://")):
            raise TargetError(
                "--http=2 serves an ASGI app (--target=module:attr) over HTTP/2 with "
                "--server=hypercorn or granian, not a running server or a command"
            )
        if server not in HTTP2_SERVERS:
            raise TargetError(
                f"--http=2 needs a server that speaks HTTP/2: --server={' or '.join(HTTP2_SERVERS)}"
                f" ({server or UVICORN} has no HTTP/2)"
            )


_ADDRESS = re.compile(
    r"(?:localhost|[0-9.]+|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+\.[A-Za-z]+):[0-9]+(/.*)?"
)


def address_as_url(name: str) -> str | None:
    """The URL *name* means if it is a server's address without a scheme
    (``127.0.0.1:8000``, ``localhost:8000/base``): ``http://`` before it; else ``None``.

    A module path (``mypkg.main:app``) is never one: its attribute is not a port.
    """
    return f"http://{name}" if _ADDRESS.fullmatch(name) else None


_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def normal_prefix(prefix: str, option: str) -> str:
    """*prefix* as the suite uses it: ``""`` for the root, else ``/a/b`` (no trailing slash).

    Each segment is made of unreserved URL characters (RFC 3986 §2.3), and none
    is ``.`` or ``..``, so that the prefix goes into request lines, URLs and
    nginx's configuration as it is, and means the same in each.
    """
    normal = prefix.rstrip("/")
    if normal and (
        not _PREFIX.fullmatch(normal) or any(part in (".", "..") for part in normal.split("/"))
    ):
        raise TargetError(
            f"{option}={prefix!r}: expected a base path such as /base or /apps/starlette "
            "(segments of letters, digits and -._~)"
        )
    return normal


def _url_target(name: str, given: str | None) -> Target:
    parts = urlsplit(name)
    if not parts.hostname or parts.query or parts.fragment:
        raise TargetError(
            f"--target={name!r}: expected the server's base URL, e.g. http://127.0.0.1:8000 "
            "or http://127.0.0.1:8000/base"
        )
    from_url = normal_prefix(parts.path, f"--target={name} (its path)")
    if not from_url:
        return Target(name, url=name.rstrip("/"), prefix=given or "")
    if given is not None and given != from_url:
        raise TargetError(
            f"--target={name} puts the surface below {from_url}, "
            f"--target-prefix={given or '/'} elsewhere: give the base path once, "
            "in the URL or with --target-prefix"
        )
    base = parts._replace(path="").geturl()
    return Target(name, url=base, prefix=from_url)


def _put_current_directory_on_path() -> None:
    """Make the current directory's modules importable, as ``uvicorn mod:app`` does
    (its ``--app-dir``, ``.`` by default): ``pytest --streamspec-target=mypkg.main:app``
    run from a project finds its app, as ``python -m pytest`` would."""
    here = os.getcwd()
    if not any(os.path.abspath(entry or os.curdir) == here for entry in sys.path):
        sys.path.insert(0, here)


def _import_app(name: str) -> ASGIApp:
    """Import the ASGI app named ``module:attribute``."""
    module_name, sep, attribute = name.partition(":")
    if not sep or not module_name or not attribute:
        raise TargetError(
            f"--target={name!r}: expected module:attribute (e.g. {DEFAULT_TARGET}) "
            "or a URL (http://127.0.0.1:8000)"
        )
    _put_current_directory_on_path()
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        missing = getattr(error, "name", None)
        if missing is not None and (module_name + ".").startswith(missing + "."):
            raise TargetError(
                f"--target={name!r}: cannot import {module_name}: {error}; looked for in "
                f"the current directory ({os.getcwd()}) and the installed packages: "
                "run from your project's directory (where the app's package is), or put "
                "that directory on PYTHONPATH"
            ) from error
        raise TargetError(f"--target={name!r}: cannot import {module_name}: {error}") from error
    app: object = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise TargetError(f"--target={name!r}: {module_name} has no {attribute}") from None
    if not callable(app):
        raise TargetError(f"--target={name!r}: {attribute} is not an ASGI app (not callable)")
    return app
