"""Use cases: take ids, values and ``now``; load, apply rules, commit once."""
