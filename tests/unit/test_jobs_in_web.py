"""Where the job runner may start beside the web app."""

from scheduler.jobs import should_run_in_web


def test_the_development_server_without_the_reloader_runs_the_jobs():
    assert should_run_in_web({}, dev_server=True, reloading=False)


def test_under_the_reloader_only_the_serving_child_runs_the_jobs():
    assert not should_run_in_web({}, dev_server=True, reloading=True)
    assert should_run_in_web({"WERKZEUG_RUN_MAIN": "true"}, dev_server=True, reloading=True)


def test_gunicorn_workers_never_run_the_jobs():
    assert not should_run_in_web({"SERVER_SOFTWARE": "gunicorn/23.0.0"}, dev_server=True,
                                 reloading=False)
    assert not should_run_in_web({}, dev_server=False, reloading=False)
