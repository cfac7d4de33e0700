"""iCal building and feed tokens (depends only on scheduler.models)."""
