"""The one exception of the data layer."""

from __future__ import annotations


class DataError(ValueError):
    """A problem with the user's data. The message is one line naming the file, column or value."""

    def __init__(self, message: str):
        message = str(message).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        super().__init__(message)
