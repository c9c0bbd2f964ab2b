"""Run Debian's nginx in front of a target, on a loopback port, as an unprivileged process.

The configuration is ``nginx/nginx.conf.template`` beside this module (its
locations are documented there); the source document's streaming settings are
``nginx/sse-location.conf``, shipped as an example to copy. nginx runs in the
foreground as a single process (``daemon off``, ``master_process off``), with
its pid file, error log and temp paths in a private temporary directory. When
the suite runs as root, nginx is started as ``nobody``.

nginx binds a port the suite found free a moment before. (Handing it a bound
socket through the ``NGINX`` variable, as nginx does on a binary upgrade,
crashes nginx 1.22 when it runs without a master process.)
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

CONF_DIR = Path(__file__).parent / "nginx"
TEMPLATE = CONF_DIR / "nginx.conf.template"

DEFAULT_LOCATION = ""
"""Path prefix of the location with nginx's defaults (``proxy_buffering on``)."""
IGNORE_X_ACCEL_LOCATION = "/ignore-x-accel"
"""Path prefix of the location that ignores ``X-Accel-Buffering`` (for the demonstration)."""
DOCUMENTED_LOCATION = "/documented"
"""Path prefix of the location using the source document's settings (``sse-location.conf``)."""

_STOP_GUARD_SECONDS = 10.0
_START_GUARD_SECONDS = 10.0
_START_ATTEMPTS = 3
_PROBE_INTERVAL_SECONDS = 0.02


class NginxUnavailable(RuntimeError):
    """nginx is not installed, or would not start; the message says which."""


def find_nginx() -> str | None:
    """The nginx binary: ``$STREAMSPEC_NGINX`` if set, else on PATH or in /usr/sbin; or ``None``."""
    chosen = os.environ.get("STREAMSPEC_NGINX")
    if chosen is not None:
        return shutil.which(chosen)
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render_config(tmp: Path, port: int, upstream: str, prefix: str = "") -> str:
    """The configuration for nginx listening on *port*, proxying to *upstream* (host:port).

    *prefix* is the target's base path (``/base``): the locations lie below it
    (``/base/documented/``) and pass the path on below it (``/base/...``).
    """
    text = TEMPLATE.read_text()
    for name, value in {
        "tmp": str(tmp),
        "port": str(port),
        "upstream": upstream,
        "prefix": prefix,
    }.items():
        text = text.replace("{" + name + "}", value)
    return text


def _unprivileged() -> tuple[int, int] | None:
    """(uid, gid) of ``nobody`` when running as root, else ``None`` (already unprivileged)."""
    if os.geteuid() != 0:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None  # no such user: nginx runs as root, as a last resort
    return nobody.pw_uid, nobody.pw_gid


def _free_port() -> int:
    """A loopback port free right now (nginx binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Return once nginx accepts connections on *port*; raise if it exits or never does.

    nginx has no readiness signal in the foreground, so this probes the port (a
    start-up wait, never a verdict), bounded by a hang guard.
    """
    deadline = time.monotonic() + _START_GUARD_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            raise NginxUnavailable(f"nginx exited with {process.returncode}: {text.strip()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(_PROBE_INTERVAL_SECONDS)
        else:
            return
    raise NginxUnavailable(f"nginx did not listen on port {port} in {_START_GUARD_SECONDS}s")


@contextmanager
def running_nginx(upstream_url: str) -> Iterator[str]:
    """Run nginx in front of *upstream_url* while the block runs; yield its base URL.

    The path of *upstream_url* (the target's prefix, ``/base``) is kept: the
    base URL yielded ends with it, and the locations lie below it
    (``http://127.0.0.1:PORT/base/documented/conformance/...`` reaches the target
    at ``/base/conformance/...``).

    Raises :class:`NginxUnavailable` if nginx is not installed or exits at start.
    """
    binary = find_nginx()
    if binary is None:
        raise NginxUnavailable(
            "nginx is not installed (Debian: apt-get install nginx; or set STREAMSPEC_NGINX)"
        )
    upstream = urlsplit(upstream_url).netloc
    prefix = urlsplit(upstream_url).path.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="streamspec-nginx-") as name:
        tmp = Path(name)
        # A copy beside the configuration: the checkout may not be readable by nobody.
        shutil.copyfile(CONF_DIR / "sse-location.conf", tmp / "sse-location.conf")
        ids = _unprivileged()
        if ids is not None:
            os.chown(tmp, *ids)
        process, port = _start(binary, tmp, upstream, prefix, ids)
        try:
            yield f"http://127.0.0.1:{port}{prefix}"
        finally:
            process.terminate()
            try:
                process.wait(_STOP_GUARD_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start(
    binary: str, tmp: Path, upstream: str, prefix: str, ids: tuple[int, int] | None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start nginx on a free port; try another port if one was taken in between (3 tries)."""
    config = tmp / "nginx.conf"
    log = tmp / "error.log"
    for attempt in range(_START_ATTEMPTS):
        port = _free_port()
        config.write_text(render_config(tmp, port, upstream, prefix))
        command = [binary, "-p", str(tmp), "-c", str(config), "-e", str(log)]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=None if ids is None else ids[0],
            group=None if ids is None else ids[1],
        )
        try:
            _wait_until_listening(process, port, log)
        except NginxUnavailable:
            if process.poll() is None:
                process.kill()
            process.wait()
            if attempt == _START_ATTEMPTS - 1:
                raise
        else:
            return process, port
    raise AssertionError("unreachable")  # pragma: no cover
