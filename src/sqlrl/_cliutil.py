"""What every ``sqlrl`` command shares: flag types, the two user-error exits and the safety net of ``main``.

Exit codes: 0 success; 1 the command ran and failed (a file or database that is missing, unreadable
or malformed, a query or evaluation that failed); 2 the command line is wrong (a bad flag value,
missing or conflicting options). A user error prints one ``error: ...`` line on stderr, never a
traceback; an unexpected exception (a bug) still shows its traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from sqlrl.errors import SqlrlError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "CommandError",
    "UsageError",
    "describe",
    "dialect",
    "error",
    "fail",
    "make_console",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "run_guarded",
    "workers_int",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process killed by SIGPIPE


class UsageError(SqlrlError):
    """The command line is wrong (exit 2)."""


class CommandError(SqlrlError):
    """The command ran and failed for a reason the user can fix (exit 1)."""


# Error classes of sqlrl that always mean bad input, never a bug; looked up only in modules already
# imported (an exception of a class that was never imported cannot have been raised).
_USER_ERRORS = {
    "sqlrl.sandbox.errors": ("SandboxError",),
    "sqlrl.data.errors": ("DatasetError",),
    "sqlrl.sql.errors": ("SqlError",),
    "sqlrl.data.prompts": ("PromptTooLongError",),
    "sqlrl.rewards.spec": ("RewardSpecError",),
    "sqlrl.train.config": ("ConfigError",),
    "sqlrl.train.runner": ("TrainingError",),
}


def _user_error_classes() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [CommandError, OSError]
    for module, names in _USER_ERRORS.items():
        loaded = sys.modules.get(module)
        found.extend(getattr(loaded, n) for n in names if loaded is not None and hasattr(loaded, n))
    return tuple(found)


def describe(e: BaseException) -> str:
    """The message of a user error; an ``OSError`` names its file."""
    if isinstance(e, OSError) and e.strerror and e.filename is not None:
        return f"{e.filename}: {e.strerror}"
    return str(e) or type(e).__name__


def error(message: str, code: int = EXIT_FAILED) -> int:
    """Print ``error: message`` on stderr and return ``code``."""
    try:
        sys.stdout.flush()  # what was printed before comes first
    except (OSError, ValueError):  # a closed pipe or stream: the message matters more
        pass
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def fail(e: BaseException) -> int:
    """``error: ...`` for an exception a command caught: exit 1 for files, databases and the
    environment (missing, unreadable, malformed, a package not installed), 2 for a bad setting
    (any other ``ValueError``)."""
    setting = isinstance(e, UsageError) or isinstance(e, ValueError) and not isinstance(e, _data_error_classes())
    return error(describe(e), EXIT_USAGE if setting else EXIT_FAILED)


def _data_error_classes() -> tuple[type[BaseException], ...]:
    """Errors about files and databases (some are ValueErrors, e.g. a malformed dataset file)."""
    found: list[type[BaseException]] = [CommandError]
    for module, name in (("sqlrl.data.errors", "DatasetError"), ("sqlrl.sandbox.errors", "SandboxError")):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def _stdout_is_broken() -> bool:
    """True when stdout is a pipe whose reader has gone (so a BrokenPipeError came from printing)."""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows) or no real stdout: assume it was stdout
        return True


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _rich_console(stderr: bool) -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(stderr=stderr)


class _LazyConsole:
    """Stands for a rich console and builds it on first use: a command that prints no rich output (``--help``,
    ``--json``, an error) never imports rich."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            self._console = _rich_console(self._stderr)
        return getattr(self._console, name)


def make_console(stderr: bool = False) -> Any:
    """A rich console whose closed pipe ends the command like a plain ``print`` does (exit 141, quiet),
    instead of rich's own ``SystemExit(1)``; rich is imported when the console first prints."""
    return _LazyConsole(stderr)


def run_guarded(run: Callable[[], int]) -> int:
    """Run a command: user errors become ``error: ...`` and an exit code, a closed pipe exits quietly.

    Anything else (a bug) propagates with its traceback.
    """
    try:
        code = run()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _stdout_is_broken():
            raise
        _silence_stdout()  # like `head` closing the pipe for a Unix tool: stop, no message
        return EXIT_BROKEN_PIPE
    except UsageError as e:
        return error(str(e), EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if isinstance(e, _user_error_classes()):
            return error(describe(e), EXIT_FAILED)
        raise


# -- argparse types: a bad value is a usage error naming the flag ----------------------------------


def _number(text: str, kind: Callable[[str], Any]) -> Any:
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (seconds, rates)."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def dialect(text: str) -> str:
    """A SQL dialect name sqlglot knows (with a suggestion when it does not)."""
    from sqlrl.sql.dialects import resolve_dialect
    from sqlrl.sql.errors import UnknownDialectError

    try:
        return resolve_dialect(text)
    except UnknownDialectError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def workers_int(text: str) -> int:
    """Threads: an integer >= 1, or -1 for all cores."""
    value = _number(text, int)
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"must be >= 1, or -1 for all cores, got {text}")
    return value


def keywords_for(fn: Callable[..., Any], args: argparse.Namespace, **given: Any) -> dict[str, Any]:
    """The keyword arguments of ``fn`` (the fields of a dataclass) that ``args`` hold by name, and ``given``.

    A command's flags are named (``dest``) after the parameters they set, so a command calls
    ``fn(positional..., **keywords_for(fn, args))`` instead of copying every flag by hand.

    >>> def f(a, *, timeout=1.0, workers=1): ...
    >>> keywords_for(f, argparse.Namespace(a=0, timeout=2.0, out="x"), workers=4)
    {'timeout': 2.0, 'workers': 4}
    """
    import dataclasses
    import inspect

    if isinstance(fn, type) and dataclasses.is_dataclass(fn):  # a settings dataclass: its fields
        names = [f.name for f in dataclasses.fields(fn) if f.init]
    else:
        keyword_only = inspect.Parameter.KEYWORD_ONLY
        names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is keyword_only]
    out = {name: getattr(args, name) for name in names if hasattr(args, name)}
    out.update(given)
    return out
