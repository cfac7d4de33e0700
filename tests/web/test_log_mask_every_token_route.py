"""One mask covers every route with a secret in its path, taken from the URL map, so
a route added later is covered too (issue 13)."""

from __future__ import annotations

import logging

from blueprints.logmask import mask, secret_prefixes

SECRETS = ("r2Zk8pQ-_x7WcY3vN0aLm9sTbE4uHjK1oIqGdRfP6eA",      # a feed token
           "WzEsImVtYWlsIl0.arsxJgeda95PxBNPc8g1m_Vc48U")       # a signed link


def test_every_route_with_a_token_is_masked_in_access_log_lines(app, caplog):
    routes = [r.rule for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert {"/feeds/", "/me/", "/offers/", "/unsubscribe/", "/check-in/"} <= set(
        secret_prefixes(app))
    with caplog.at_level(logging.INFO):
        for rule in routes:
            for secret in SECRETS:
                path = rule.replace("<token>", secret)
                for arg in ("<int:session_id>", "<int:check_in_id>"):
                    path = path.replace(arg, "12")
                logging.getLogger("werkzeug").info('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', path)
                logging.getLogger("gunicorn.access").info(
                    '"%(r)s" %(s)s', {"r": f"POST {path}?x=1 HTTP/1.1", "s": "303"})
    assert not any(secret in caplog.text for secret in SECRETS)
    assert caplog.text.count("[token]") == len(routes) * len(SECRETS) * 2


def test_the_mask_leaves_other_paths_and_the_ics_suffix_alone(app):
    assert mask("GET /feeds/abcDEF123_-x.ics") == "GET /feeds/[token].ics"
    assert mask("GET /cohorts/12 HTTP/1.1") == "GET /cohorts/12 HTTP/1.1"
