"""Returners lists everyone who has waited past the alert, longest first, 25 to a
page with a count and Previous/Next, as it does open requests: a program with a
backlog of hundreds used to get all of them on every visit (at fifty times the demo,
Returners halved its pace), and a list that long helps no coordinator decide whom to
call first."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.returns_support import ask_to_come_back


def backlog(build, clock, policy, count: int, batch: str = "a") -> list[str]:
    """``count`` people who asked more than the alert ago, longest wait first."""
    names = []
    for n in range(count):
        name = f"Waiting {n:02d}"
        ask_to_come_back(build.client(name, email=f"w{n}.{batch}@example.org"),
                         clock() - timedelta(days=policy.waiting_alert_days + 1 + count - n))
        names.append(name)
    return names


def long_wait_names(html: str) -> list[str]:
    section = html.split('id="long-waits"')[1].split("</section>")[0]
    return re.findall(r">(Waiting \d\d)</a>", section)


def test_the_longest_waits_come_first_twenty_five_to_a_page(build, clock, policy,
                                                             console_as):
    names = backlog(build, clock, policy, 30)
    console = console_as("coordinator")
    first = console.get("/returners").get_data(as_text=True)
    assert long_wait_names(first) == names[:25]
    assert "1–25 of 30, longest wait first." in first
    assert 'href="/returners?waits_page=2#long-waits">Next</a>' in first
    second = console.get("/returners?waits_page=2").get_data(as_text=True)
    assert long_wait_names(second) == names[25:]
    assert "26–30 of 30, longest wait first." in second
    assert 'href="/returners#long-waits">Previous</a>' in second
    # a page past the last shows the last; the open requests keep their own page
    assert long_wait_names(console.get("/returners?waits_page=9").get_data(
        as_text=True)) == names[25:]
    # each list keeps the other's page
    assert 'href="/returners?page=2&amp;waits_page=2">Next</a>' in second
    assert "30 people have waited" in console.get("/").get_data(as_text=True)  # Today


def test_a_short_list_needs_no_pages(build, clock, policy, console_as):
    names = backlog(build, clock, policy, 3)
    html = console_as("coordinator").get("/returners").get_data(as_text=True)
    assert long_wait_names(html) == names
    assert "longest wait first." not in html

