"""Serve the reference with its server settings: ``python -m impl.serve [--host H] [--port P]``.

The demo command. It runs uvicorn on ``impl.app:app`` with
:class:`impl.settings.ServerSettings` (a deadline for each request's head, the
keep-alive and shutdown timeouts, a concurrency limit, a bound on a head's size),
which is the same as::

    uvicorn impl.app:app --http impl.server_protocol:HeadTimeoutH11Protocol \\
        --timeout-keep-alive 5 --timeout-graceful-shutdown 10 \\
        --limit-concurrency 1000 --h11-max-incomplete-event-size 16384

(:func:`command` prints it: ``python -m impl.serve --print-command``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

import uvicorn

from impl.settings import ServerSettings

APP = "impl.app:app"


def command(host: str = "127.0.0.1", port: int = 8000) -> list[str]:
    """uvicorn's command line that serves the reference as :func:`main` does."""
    return [
        "uvicorn", APP, "--host", host, "--port", str(port),
        *ServerSettings.from_environment().uvicorn_arguments(),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m impl.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--print-command", action="store_true", help="print the uvicorn command and exit"
    )
    options = parser.parse_args(argv)
    if options.print_command:
        sys.stdout.write(shlex.join(command(options.host, options.port)) + "\n")
        return
    settings = ServerSettings.from_environment()
    uvicorn.run(APP, host=options.host, port=options.port, **settings.uvicorn_options())


if __name__ == "__main__":
    main()
