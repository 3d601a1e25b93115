#!/bin/sh
# Container entrypoint: apply pending SQL migrations, then replace this shell with the container's command.
#
#   ENTRYPOINT ["/app/docker/entrypoint.sh"]
#   CMD ["python", "app.py"]
#
# Environment (all optional):
#   SQLRUN_WAIT     seconds to wait for the database to accept connections (default 60; compose starts
#                   the app and the database together, so the database is often not ready yet)
#   SQLRUN_PYTHON   the interpreter (default: python)
#   SQLRUN_INIT     the migration script (default: ./init_db.py, else init_db.py next to this folder,
#                   else `python -m sqlrun`)
#   SQLRUN_ARGS     extra options for it, split on spaces (e.g. "-q --lock-timeout 600")
#   SQLRUN_SKIP     set to 1 to start the command without migrating (one-off debugging shells)
#   DATABASE_URL    where to migrate (or MYSQL_* / PG* variables; see the README)
#
# If the migrations fail, the command is not started and the container exits with sqlrun's exit code
# (1 statement failed, 2 configuration, 3 changed scripts, 4 database unreachable, 5 lock timeout).
set -eu

python_bin=${SQLRUN_PYTHON:-python}
wait_seconds=${SQLRUN_WAIT:-60}

find_init() {
    if [ -n "${SQLRUN_INIT:-}" ]; then
        printf '%s\n' "$SQLRUN_INIT"
    elif [ -f init_db.py ]; then
        printf '%s\n' init_db.py
    elif [ -f "$(dirname "$0")/../init_db.py" ]; then
        printf '%s\n' "$(dirname "$0")/../init_db.py"
    fi
}

if [ "${SQLRUN_SKIP:-0}" != "1" ]; then
    init=$(find_init)
    status=0
    # SQLRUN_ARGS is split on purpose: it carries several options.
    # shellcheck disable=SC2086
    if [ -n "$init" ]; then
        "$python_bin" "$init" --wait "$wait_seconds" ${SQLRUN_ARGS:-} || status=$?
    else
        "$python_bin" -m sqlrun --wait "$wait_seconds" ${SQLRUN_ARGS:-} || status=$?
    fi
    if [ "$status" -ne 0 ]; then
        echo "entrypoint: migrations failed (exit $status); not starting: $*" >&2
        exit "$status"
    fi
fi

# exec: the command becomes PID 1's process, so `docker stop` signals reach it directly.
exec "$@"
