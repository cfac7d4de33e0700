"""Who fetched a feed: a calendar app that subscribed, or a person's browser.

A subscription is a calendar app polling the link, known by its User-Agent:
Google's importer, Apple's Calendar (iOS dataaccessd, macOS CalendarAgent), Outlook
and Exchange, Thunderbird, DAVx5/ICSx5 and the like. Anything else (a browser, a
download with ``?download=1``, a mail scanner checking links, curl) is not taken as
a subscription: wrongly thinking someone is subscribed would stop their email
attachments, so only a known calendar app counts.
"""

from __future__ import annotations

CALENDAR_APPS = ("google-calendar-importer", "googlecalendar", "dataaccessd",
                 "calendaragent", "ios/", "macos/", "mac os x/", "microsoft office",
                 "microsoft outlook", "outlook-", "exchange", "thunderbird", "lightning",
                 "davx5", "icsx5", "evolution", "kcalendarcore", "korganizer",
                 "calendar")


def fetched_by_calendar_app(user_agent: str | None, download: bool) -> bool:
    """True when this fetch of a feed is a calendar app keeping a subscription."""
    agent = (user_agent or "").lower()
    return not download and any(app in agent for app in CALENDAR_APPS)
