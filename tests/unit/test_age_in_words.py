"""How long a return request has waited, in the words a coordinator says."""

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.services.reports import age_in_words

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("ago", "words"), [
    (timedelta(minutes=59), "under an hour"),
    (timedelta(hours=1), "1 hour"),
    (timedelta(hours=23, minutes=59), "23 hours"),
    (timedelta(days=1), "1 day"),
    (timedelta(days=27), "27 days"),
    (timedelta(days=28), "4 weeks"),
    (timedelta(days=89), "12 weeks"),
    (timedelta(days=90), "3 months"),
    (timedelta(days=729), "24 months"),
    (timedelta(days=730), "2 years"),
])
def test_age_reads_in_plain_words(ago, words):
    assert age_in_words(NOW - ago, NOW) == words


def test_a_request_stamped_a_moment_in_the_future_reads_as_under_an_hour():
    assert age_in_words(NOW + timedelta(seconds=5), NOW) == "under an hour"
