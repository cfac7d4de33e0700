"""Who can be reached how: a chosen channel without an address falls back to the
other one (email to SMS and back), an opt-out never does."""

from scheduler.services.outbox import reach


def test_a_person_who_gave_only_a_phone_gets_reminders_by_text():
    assert reach(["email"], None, "617-555-0101", False, False, fallback=False) == [
        ("sms", "617-555-0101")]


def test_a_person_who_chose_texts_but_gave_only_an_email_gets_email():
    assert reach(["sms"], "a@example.org", None, False, False, fallback=False) == [
        ("email", "a@example.org")]


def test_an_opt_out_is_a_choice_and_is_never_worked_around_for_reminders():
    assert reach(["email"], "a@example.org", "617-555-0101", True, False,
                 fallback=False) == []
    assert reach(["email"], None, "617-555-0101", False, True, fallback=False) == []


def test_both_channels_chosen_and_both_given_reach_both_once():
    assert reach(["email", "sms"], "a@example.org", "617-555-0101", False, False,
                 fallback=False) == [("email", "a@example.org"), ("sms", "617-555-0101")]
    assert reach(["email", "sms"], None, "617-555-0101", False, False,
                 fallback=False) == [("sms", "617-555-0101")]


def test_a_message_they_must_get_uses_any_address_they_have_not_stopped():
    assert reach(["email"], "a@example.org", "617-555-0101", True, False) == [
        ("sms", "617-555-0101")]
