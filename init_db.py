#!/usr/bin/env python3
"""Apply data/migrations/*.sql to the configured database: ``python init_db.py [command] [options]``."""

from sqlrun.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
