"""Domain errors, named after the outcome. ``blueprints`` maps them to HTTP in one place."""


class DomainError(Exception):
    """Base for outcomes a caller can act on. ``status`` is the HTTP mapping."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidValue(DomainError):
    """A value that is well-formed but not acceptable; ``field`` names it (422)."""

    status = 422
    code = "invalid"


class AlreadyExists(DomainError):
    """Something with this name (or email) is there already: a conflict, 409."""


class NoSeatLeft(DomainError):
    code = "no_seat_left"


class AlreadyEnrolled(DomainError):
    code = "already_enrolled"


class AlreadyWaiting(DomainError):
    code = "already_waiting"


class CapacityBelowSeatsTaken(DomainError):
    code = "capacity_below_seats_taken"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class OfferExpired(DomainError):
    code = "offer_expired"


class OfferAlreadyAnswered(DomainError):
    code = "offer_already_answered"


class CohortNotOpen(DomainError):
    code = "cohort_not_open"


class OptionNotAvailable(DomainError):
    """The chosen placement option is not (or no longer) among those on offer."""

    code = "option_not_available"


class CohortNotReady(DomainError):
    code = "cohort_not_ready"
