"""Where a run's events go: the ``sqlrun`` logger by default, the terminal when the CLI runs."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    import logging

    from .model import ScriptResult
    from .scripts import Script
    from .splitter import Statement


def _log() -> logging.Logger:
    """The ``sqlrun`` logger; logging is imported on first use, so the CLI's start never pays for it."""
    import logging

    log = logging.getLogger("sqlrun")
    if not log.handlers:
        # A library does not print: without this, Python's last-resort handler writes warnings to stderr bare,
        # without the CLI's ``warning:`` prefix. An application that configures logging still gets them.
        log.addHandler(logging.NullHandler())
    return log


class Reporter:
    """Receives a run's events; this base class logs them through the ``sqlrun`` logger."""

    verbose = False

    def info(self, message: str) -> None:
        """A line of progress: connected, created, nothing to do..."""
        _log().info(message)

    def warning(self, message: str) -> None:
        """Something the user should look at that does not stop the run."""
        _log().warning(message)

    def planned(self, script: Script, count: int, no_transaction: bool) -> None:
        """A dry run's line for one script."""
        _log().info("would apply %s (%d statements%s)", script.file, count, ", no transaction" if no_transaction else "")

    def script_started(self, script: Script, count: int) -> None:
        """A script is about to run; ``count`` is 0 when it is split while it runs (not known yet)."""
        _log().debug("applying %s (%s)", script.file, f"{count} statements" if count else "split while it runs")

    def progress(self, script: Script, done: int, total: int, elapsed: float) -> None:
        """Statements done so far in the running script, of ``total`` (0: not known, it is split while it runs)."""

    def statement(self, script: Script, statement: Statement) -> None:
        """A statement ran (reported only when ``verbose``)."""
        _log().debug("%s:%d: %s", script.file, statement.line, statement.text.split("\n", 1)[0])

    def tolerated(self, script: Script, statement: Statement, reason: str) -> None:
        """A statement failed with an error that means its effect is already there."""
        _log().warning("%s:%d: tolerated: %s", script.path, statement.line, reason)

    def absorbed(self, script: Script, statement: Statement) -> None:
        """A script's own BEGIN/COMMIT, not sent because the script already runs in one transaction."""
        _log().debug("%s:%d: not sent (the script already runs in a transaction): %s", script.path, statement.line, statement.text)

    def script_done(self, result: ScriptResult) -> None:
        """A script was applied and recorded."""
        _log().info(
            "applied %s: %d statements, %d tolerated, %d ms", result.file, result.statements, result.tolerated, result.duration_ms
        )
