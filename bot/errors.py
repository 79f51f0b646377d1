"""One exception tree for backcheck.

    BackcheckError
    ├── FlowError          a flow or locale file is invalid (names file, node and line)
    ├── ConfigError        a setting is missing or wrong (names the variable)
    ├── DeliveryError      a platform would not take a post (names its reason, no content)
    └── StoreError         the session store failed
        ├── StoreUnavailable   the store cannot be reached right now
        │   ├── StoreCorrupt       its file is damaged: an operator must restore it
        │   └── WrongKey           no configured key opens what it holds
        ├── VersionConflict    another update changed the session first
        └── CorruptRecord      a record could not be read and was dropped
"""

from __future__ import annotations


class BackcheckError(Exception):
    """Base of every error backcheck raises on purpose."""


class FlowError(BackcheckError):
    """A flow or locale file is invalid."""

    def __init__(self, message: str, *, file: str = "", node: str = "", line: int | None = None):
        self.file, self.node, self.line = file, node, line
        where = file
        if line is not None:
            where += f":{line}"
        if node:
            where += f" (node {node!r})" if where else f"node {node!r}"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(BackcheckError):
    """A setting is missing or wrong; the message names the variable."""


class DeliveryError(BackcheckError):
    """A platform refused or could not take a scheduled post or follow-up, e.g. the bot is
    not in the channel; the message holds the platform's reason, never message text."""


class StoreError(BackcheckError):
    """The session store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached; the person is asked to try again shortly."""


class StoreCorrupt(StoreUnavailable):
    """The store's file is damaged (SQLite: "database disk image is malformed"); the
    message names the file. People get the kind "try again later" reply."""


class WrongKey(StoreUnavailable):
    """The store holds records that no key in BACKCHECK_SECRET_KEY opens: the key was
    changed (or the store is another's). Nothing is read, written or deleted."""


class VersionConflict(StoreError):
    """The session changed since it was read; the turn is retried."""


class CorruptRecord(StoreError):
    """A stored record could not be read; it has been deleted and counts as expired."""
