"""The simulator (`flask simulate`): scenarios, the engine that plays them through
the real use cases, and the closing table."""
