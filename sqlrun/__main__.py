"""``python -m sqlrun``."""

from .cli import main

raise SystemExit(main())
