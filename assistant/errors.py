"""Expected failures, each with a message the user can act on.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``.
"""


class PeerqaError(Exception):
    exit_code = 1


class UsageError(PeerqaError):
    """Bad input from the user (empty or over-long question, bad filter)."""

    exit_code = 2


class IndexNotFound(PeerqaError):
    exit_code = 3

    def __init__(self, index_dir: str, hint: str = "Run `peerqa ingest` first."):
        super().__init__(f"No index at {index_dir}/. {hint}")


class IndexMismatch(PeerqaError):
    exit_code = 3


class IndexCorrupt(PeerqaError):
    exit_code = 3


class IndexWriteError(PeerqaError):
    """The index folder cannot be written (read-only, disk full); the previous index stays live."""

    exit_code = 3


class UnreadableDocument(PeerqaError):
    """A corpus file that cannot be turned into text; ingest skips it with this reason."""


class CatalogError(PeerqaError):
    exit_code = 2
