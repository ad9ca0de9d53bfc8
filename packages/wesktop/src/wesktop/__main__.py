"""``python -m wesktop``: the command line (see :mod:`wesktop.cli`)."""

from .cli import main

raise SystemExit(main())
