"""One exception tree for backcheck.

    BackcheckError
    ├── FlowError          a flow or locale file is invalid (names file, node and line)
    ├── ConfigError        a setting is missing or wrong (names the variable)
    ├── DeliveryError      a platform would not take a post (names its reason, no content)
    └── StoreError         the session store failed
        ├── StoreUnavailable   the store cannot be reached right now
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


class VersionConflict(StoreError):
    """The session changed since it was read; the turn is retried."""


class CorruptRecord(StoreError):
    """A stored record could not be read; it has been deleted and counts as expired."""
