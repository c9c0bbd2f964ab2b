"""``python -m spec``: the command line, as the ``streamspec`` script (:mod:`spec.cli`)."""

from spec.cli import main

raise SystemExit(main())
