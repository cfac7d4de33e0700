"""The client's offer link: plain words, accept or decline once, and kind pages for
offers that ran out, were already answered, or links we do not recognise."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from scheduler.models import Enrollment, SeatOffer
from scheduler.services import enrollments, waitlist
from tests.forms import post_form
from tests.waitlist_support import full_group_with_line, open_offers, token_for

UNKIND = ("error", "invalid", "failed", "dropped", "no-show", "relapse", "addiction",
          "recovery", "substance", "iop", "program")


@pytest.fixture
def offered(build, clock):
    """A client holding an open offer in a Boston group meeting Mon/Wed/Thu at 6 PM."""
    location = build.location("Boston", address="100 Example Street, Boston, MA")
    cohort, seated, line = full_group_with_line(build, location=location, room="Room 2")
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    return offer, token_for(offer), line


def page(app, path, method="get"):
    """GET a page, or POST to it as a browser would: with a valid CSRF token
    (taken from a form page, since an answered offer's page shows no form)."""
    http = app.test_client()
    if method == "post":
        response = post_form(http, "/come-back", {}, action=path)
    else:
        response = getattr(http, method)(path)
    return response, response.get_data(as_text=True)


def assert_kind(text):
    lowered = text.lower()
    for word in UNKIND:
        assert word not in lowered, word


def test_the_offer_page_says_when_and_where_in_plain_words(app, offered):
    _, token, _ = offered
    response, text = page(app, f"/offers/{token}")
    assert response.status_code == 200
    assert "A seat has opened up for you" in text
    # offered Mon 10 AM: tonight is too soon, so the seat is for Wednesday's group,
    # and the hold runs a day
    assert "Wed Dec 2, 6:00 PM" in text and "Tue Dec 1, 10:02 AM" in text
    assert "Mondays, Wednesdays and Thursdays at 6:00 PM" in text
    assert "100 Example Street, Boston, MA" in text and "Room 2" in text
    assert 'name="csrf_token"' in text
    assert f"/offers/{token}/accept" in text and f"/offers/{token}/decline" in text
    assert "Not this time, keep my place" in text and f"/offers/{token}/leave" in text
    assert_kind(text)


def test_the_offer_page_says_who_to_call_at_that_site(app, offered):
    from scheduler.services import cohorts

    offer, token, _ = offered
    cohorts.update_location(offer_location_id(offer), {"phone": "617-555-0100",
                                                     "reply_to": "boston@example.org"})
    _, text = page(app, f"/offers/{token}")
    assert "Call Boston at" in text and "617-555-0100" in text
    assert "boston@example.org" in text


def offer_location_id(offer):
    from scheduler.models import Cohort, db

    return db.session.get(Cohort, offer.cohort_id).location_id


def test_offer_pages_stay_out_of_caches_and_referrers(app, offered):
    _, token, _ = offered
    response, _ = page(app, f"/offers/{token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_accepting_enrolls_and_shows_a_warm_confirmation(app, db, offered):
    offer, token, line = offered
    response, _ = page(app, f"/offers/{token}/accept", "post")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/offers/{token}")
    _, text = page(app, f"/offers/{token}")
    assert "You're all set" in text
    assert_kind(text)
    enrollment = db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == line[0].client_id)).one()
    assert enrollment.status == "active"


def test_a_used_link_shows_that_the_seat_is_already_saved(app, db, offered):
    _, token, line = offered
    page(app, f"/offers/{token}/accept", "post")
    response, _ = page(app, f"/offers/{token}/accept", "post")
    assert response.status_code == 303
    _, text = page(app, f"/offers/{token}")
    assert "You're all set" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.client_id == line[0].client_id)) == 1


def test_declining_passes_the_seat_on_and_says_thank_you(app, offered):
    offer, token, line = offered
    page(app, f"/offers/{token}/decline", "post")
    _, text = page(app, f"/offers/{token}")
    assert "Thanks for letting us know" in text
    assert_kind(text)
    assert [o.waitlist_entry_id for o in open_offers(offer.cohort_id)] == [line[1].id]


def test_an_expired_link_gets_a_kind_page_and_the_seat_moves_on(app, clock, offered):
    offer, token, line = offered
    clock.set(offer.expires_at + timedelta(minutes=1))
    response, text = page(app, f"/offers/{token}")
    assert response.status_code == 200
    assert "This offer has ended" in text and "keep your place in line" in text
    assert_kind(text)
    assert [o.waitlist_entry_id for o in open_offers(offer.cohort_id)] == [line[1].id]


def test_accepting_after_the_offer_ended_shows_the_ended_page_not_an_error(app, db, clock,
                                                                        offered):
    offer, token, _ = offered
    clock.set(offer.expires_at)
    response, _ = page(app, f"/offers/{token}/accept", "post")
    assert response.status_code == 303
    _, text = page(app, f"/offers/{token}")
    assert "This offer has ended" in text
    assert db.session.get(SeatOffer, offer.id).status == "expired"


@pytest.mark.parametrize("path", ["/offers/{bad}", "/offers/{bad}/accept",
                                  "/offers/{bad}/decline"])
def test_a_tampered_link_gets_a_kind_not_found_page(app, offered, path):
    _, token, _ = offered
    bad = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    method = "get" if path.endswith("}") else "post"
    response, text = page(app, path.format(bad=bad), method)
    assert response.status_code == 404
    assert "We couldn't find this offer" in text
    assert_kind(text)


def test_an_unknown_link_gets_the_same_page(app, offered):
    response, text = page(app, f"/offers/{waitlist.offer_token(424242)}")
    assert response.status_code == 404 and "We couldn't find this offer" in text
    response, text = page(app, "/offers/just-some-words")
    assert response.status_code == 404 and "We couldn't find this offer" in text


def test_a_link_to_a_withdrawn_offer_says_so_gently(app, clock, offered):
    offer, token, line = offered
    waitlist.remove_entry(line[0].id, "Asked to come off the list", clock())
    _, text = page(app, f"/offers/{token}")
    assert "This seat is no longer held for you" in text
    assert_kind(text)
