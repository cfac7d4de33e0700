"""The audit trail reads as sentences: who did what to whose record."""

from scheduler.audit_words import sentence, short_name, who


def test_a_person_is_named_by_first_name_and_initial():
    assert short_name("Morgan Placeholder") == "Morgan P."
    assert short_name("Cher") == "Cher"
    assert short_name(None) is None


def test_opening_a_clients_record_reads_as_a_sentence():
    robin = who("Robin", "coordinator")
    assert sentence("read", "client", 4, {}, robin, "Morgan P.") == (
        "Robin (coordinator) opened Morgan P.'s record.")


def test_changes_say_what_and_why():
    robin = who("Robin", "coordinator")
    assert sentence("update", "enrollment", 9, {"what": "withdrawn", "reason": "moved away"},
                    robin, "Morgan P.") == (
        "Robin (coordinator) changed Morgan P.'s place in a group: withdrawn "
        "(reason: moved away).")
    assert sentence("staff.disable", "staff_user", 3, {}, who("Alex", "admin"), "Sam") == (
        "Alex (admin) disabled Sam.")


def test_lists_api_calls_and_the_system_read_plainly():
    robin = who("Robin", "coordinator")
    assert sentence("read", "return_request", None, {"shown": [1, 2, 3]}, robin) == (
        "Robin (coordinator) looked at a list of requests to come back (3 shown).")
    assert sentence("read", "return_request", 4, {"via": "api", "path": "/api/v1/returns/4"},
                    robin, "Morgan P.") == (
        "Robin (coordinator) opened Morgan P.'s request to come back through the API.")
    assert sentence("check_in.self_booked", "return_request", 4, {}, who(None, None),
                    "Morgan P.") == ("The system (or the person themselves) picked a "
                                     "check-in time for Morgan P.'s request to come back.")
    assert sentence("sign_in", "staff_user", 1, {}, robin) == (
        "Robin (coordinator) signed in.")
