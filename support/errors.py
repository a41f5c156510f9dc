class SupportError(Exception):
    """A business rule said no. ``message`` is shown to the user as it is; ``field`` names the form field."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class ConflictError(SupportError):
    """The object is not in a state that allows this (already done, already decided, ...)."""

    status_code = 409
