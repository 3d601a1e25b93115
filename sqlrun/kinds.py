"""The database kinds sqlrun knows, and every name that means one: the one table of dialect aliases.

URL schemes (config.SCHEMES), script variants (``001_x.<name>.sql``, scripts.script_name) and the
splitter's dialect argument (splitter.DIALECTS) all read it, so a new alias is added here once.
"""

# name -> kind ("mysql", "postgresql" or "sqlite"); MariaDB is the MySQL kind (same client rules, same driver)
DIALECTS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
