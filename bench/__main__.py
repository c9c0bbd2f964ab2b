"""``python -m bench``: the project's performance product.

``python -m bench run`` is the SSE bench (:mod:`bench.suite`): the reference
beside Starlette, sse-starlette, FastAPI's ``fastapi.sse`` and the tutorial,
interleaved in one run, printed as ratios and drawn as PNG plots. The other
scripts of this folder measure one thing each and have their own options
(``python -m bench.cancel_cost --help``, ``python bench/file_download.py --help``).
"""

from __future__ import annotations

import argparse

from bench import suite


def main(argv: list[str] | None = None) -> int:
    command = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    verbs = command.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser(
        "run", help="the SSE bench: reference vs peers, ratios, plots", description=suite.__doc__
    )
    run.formatter_class = argparse.RawDescriptionHelpFormatter
    suite.add_options(run)
    options = command.parse_args(argv)
    return suite.main(options)


if __name__ == "__main__":
    raise SystemExit(main())
