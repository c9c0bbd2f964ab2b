"""Install the JavaScript clients of the client matrix: ``python -m peers.clients.npm``.

The npm packages (``eventsource``, ``@microsoft/fetch-event-source``) are
pinned, with their dependencies, in ``peers/clients/js/package-lock.json``;
this runs ``npm ci`` there, which installs exactly those into
``peers/clients/js/node_modules``. ``tox -e clients`` and ``.ci/run`` call it.

Without ``node`` and ``npm`` on PATH, or with a Node older than
:data:`NODE_MAJOR`, it prints why it installs nothing and exits 0: the other
clients still run, and the JavaScript columns then fail with the adapter's
own error (``node`` not found, a package that does not load).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

JS = Path(__file__).resolve().parent / "js"
"""The folder of the JavaScript adapters, their package.json and package-lock.json."""

NODE_MAJOR = 20
"""The oldest Node the packages support (``eventsource`` 4 needs 20)."""


def node_major(node: str) -> int | None:
    """The major version of the Node at *node*, or ``None`` if it does not answer."""
    try:
        answer = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        return int(answer.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def why_not() -> str | None:
    """Why the packages cannot be installed here, or ``None`` if they can."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        return f"no {missing} on PATH"
    major = node_major(node)
    if major is None or major < NODE_MAJOR:
        return f"Node {major or '(unknown)'} is older than {NODE_MAJOR}"
    return None


def main() -> int:
    reason = why_not()
    if reason is not None:
        print(
            f"skipping npm ci in {JS}: {reason}; the eventsource and fetch-event-source "
            "columns of the client matrix will fail (their adapters cannot start)",
            file=sys.stderr,
        )
        return 0
    npm = shutil.which("npm")
    assert npm is not None
    command = [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(JS)]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
