"""The seats bar: drawn and said in words with the same numbers (written by a plain
function, not a macro, since Cohorts at ten times the demo draws hundreds)."""

from blueprints.web import seats_bar
from scheduler.services.console import Seats


def test_the_bar_draws_and_says_taken_offered_and_free():
    html = str(seats_bar(Seats(capacity=6, enrolled=3, held=1, offered=1)))
    assert html == (
        '<div class="seats" role="img" aria-label="4 taken, 1 offered, 1 free of 6">\n'
        '  <div class="bar" aria-hidden="true">\n'
        '    <span class="taken" style="width: 66.7%"></span>'
        '<span class="offered" style="width: 16.7%"></span>\n  </div>\n'
        '  <span class="seat-text"><span class="nw"><strong>1 free</strong> of 6</span> '
        '<span class="nw muted">4 taken · 1 offered</span></span>\n</div>')


def test_a_group_with_no_seats_draws_an_empty_bar():
    html = str(seats_bar(Seats(capacity=0)))
    assert 'aria-label="0 taken, 0 offered, 0 free of 0"' in html
    assert 'style="width: 0.0%"' in html
