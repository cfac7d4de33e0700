"""Contact details are normalised before matching people."""

import pytest

from scheduler.services.clients import email_key, phone_key


@pytest.mark.parametrize("raw, key", [
    ("+1 (617) 555-0100", "6175550100"),
    ("617.555.0100", "6175550100"),
    ("16175550100", "6175550100"),
    ("555-01", None),
    ("", None),
    (None, None),
])
def test_phone_numbers_are_reduced_to_their_digits(raw, key):
    assert phone_key(raw) == key


def test_email_addresses_match_without_regard_to_case_or_spaces():
    assert email_key("  Robin.Example@Example.ORG ") == "robin.example@example.org"
    assert email_key("   ") is None


def test_time_helpers_show_program_local_time():
    from datetime import UTC, datetime

    from scheduler.timeutil import human_when

    assert human_when(datetime(2026, 12, 7, 23, 0, tzinfo=UTC)) == "Mon Dec 7, 6:00 PM"


def test_policy_numbers_can_be_set_from_the_environment():
    from scheduler.config import Policy, policy_from_environment

    policy = policy_from_environment({"REGROUP_POLICY_RESUME_WINDOW_DAYS": "45"})
    assert policy.resume_window_days == 45
    assert policy.credit_window_days == Policy().credit_window_days


def test_a_policy_number_that_is_not_a_number_stops_the_start():
    import pytest

    from scheduler.config import policy_from_environment

    with pytest.raises(RuntimeError, match="RESUME_WINDOW_DAYS"):
        policy_from_environment({"REGROUP_POLICY_RESUME_WINDOW_DAYS": "soon"})
