"""Flask CLI commands: `staff …` (accounts, tokens, offboarding), `demo load`, `jobs run`,
`simulate`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from scheduler import backup as backups
from scheduler.demo import load_demo
from scheduler.errors import DomainError
from scheduler.jobs import run_forever, run_once
from scheduler.models import ROLES
from scheduler.passwords import hash_password
from scheduler.services import staff as accounts
from scheduler.simulation import engine, scenario, table

staff_cli = AppGroup("staff", help="Staff accounts.")
demo_cli = AppGroup("demo", help="The Boston + Needham demo program.")
jobs_cli = AppGroup("jobs", help="The background-job process.")


def _now():
    return current_app.config["CLOCK"]()


def _refused(exc: DomainError) -> click.ClickException:
    return click.ClickException(exc.message)


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password", default=None, help="Console sign-in password (optional).")
def staff_create(email: str, role: str, name: str, password: str | None) -> None:
    """Create a staff user; the API token is the last line printed."""
    try:
        user, token = accounts.create_staff(
            email, role, _now(), name=name,
            password_hash=hash_password(password) if password else None)
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}). API token (shown once, "
               f"valid {accounts.TOKEN_DAYS} days):")
    click.echo(token)


@staff_cli.command("password")
@click.argument("email")
@click.option("--password", default=None,
              help="The new console password (asked for, hidden, when left out).")
def staff_password(email: str, password: str | None) -> None:
    """Set a staff user's console sign-in password (their sessions end)."""
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.set_password(accounts.staff_by_email(email).id, password, _now())
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"Password set for {user.role} {user.email}; their console sessions ended.")


@staff_cli.command("token")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="Create the user with this role when it does not exist yet.")
@click.option("--days", type=int, default=accounts.TOKEN_DAYS, show_default=True,
              help="How long the token works.")
@click.option("--label", default="", help="What the token is for.")
def staff_token(email: str, role: str | None, days: int, label: str) -> None:
    """Issue a new API token for a staff user; the token is the last line printed."""
    try:
        try:
            user = accounts.staff_by_email(email)
        except DomainError:
            if role is None:
                raise
            user, token = accounts.create_staff(email, role, _now())
        else:
            _row, token = accounts.new_token_for(user.id, _now(), label=label, days=days)
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"New API token for {user.role} {user.email} (shown once):")
    click.echo(token)


@staff_cli.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Offboard: the account, its API tokens and its console sessions stop at once."""
    try:
        user = accounts.disable_staff(accounts.staff_by_email(email).id, _now())
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"Disabled {user.role} {user.email}: tokens revoked, sessions ended.")


@staff_cli.command("enable")
@click.argument("email")
def staff_enable(email: str) -> None:
    """Let a disabled account sign in again (issue it a new token if it needs one)."""
    try:
        user = accounts.enable_staff(accounts.staff_by_email(email).id, _now())
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"Enabled {user.role} {user.email}.")


@staff_cli.command("revoke-token")
@click.argument("token_id", type=int)
def staff_revoke_token(token_id: int) -> None:
    """Revoke one API token by its id (see the console's Staff page or the API)."""
    try:
        row = accounts.revoke_token(token_id, _now())
    except DomainError as exc:
        raise _refused(exc) from exc
    click.echo(f"Token {row.id} of {row.staff.email} revoked.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo program; running it twice changes nothing. Refused in production
    (it makes accounts with a published password)."""
    if current_app.config.get("REGROUP_ENV") == "production":
        raise click.ClickException("The demo is not loaded in production: it creates staff "
                                   "accounts whose password is published in the README.")
    summary = load_demo(_now(), current_app.config["POLICY"])
    click.echo(summary)


@jobs_cli.command("run")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
@click.option("--job", "names", multiple=True, help="With --once: only this job (repeatable).")
def jobs_run(once: bool, names: tuple[str, ...]) -> None:
    """Run the background jobs (one process; never inside web workers)."""
    if once:
        for name, result in run_once(current_app._get_current_object(), names).items():
            click.echo(f"{name}: {result}")
    else:
        run_forever(current_app._get_current_object())


def _app_factory():
    """The factory of the app this command runs under (``register_cli`` keeps it):
    the simulator builds its throwaway apps with it, outside this app's context."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    return app.extensions["regroup_make_app"]


def _simulate_one(name: str, days: int, seed: int) -> engine.Result:
    try:
        chosen = scenario.load(name)
        chosen.policy()
    except scenario.ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    total = chosen.history_weeks * 7 + days
    with click.progressbar(length=total, label=f"{chosen.name} (seed {seed})",
                           file=sys.stderr) as bar:
        return engine.run(chosen, days=days, seed=seed,
                          make_app=_app_factory(),
                          progress=bar.update)


@click.command("simulate")
@click.option("--scenario", "name", default=None,
              help=f"A shipped scenario ({', '.join(scenario.shipped())}) or a .toml file.")
@click.option("--days", type=click.IntRange(1, 400), default=42, show_default=True,
              help="Days simulated after the scenario's history.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Same seed, same numbers.")
@click.option("--compare", nargs=2, default=None, metavar="A B",
              help="Run two scenarios with the same seed and show them side by side.")
def simulate(name: str | None, days: int, seed: int, compare: tuple[str, str] | None) -> None:
    """Run a scenario through the real use cases on a throwaway database and print
    time back to group, utilisation, waits, offers, messages and the invariants."""
    if compare:
        first, second = (_simulate_one(n, days, seed) for n in compare)
        click.echo(table.render_compare(first, second))
        return
    if name is None:
        raise click.UsageError("Give --scenario NAME|FILE (or --compare A B)")
    click.echo(table.render(_simulate_one(name, days, seed)))


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a consistent snapshot of the database to PATH (a new file)."""
    try:
        snap = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the {snap.kind} database (schema {snap.revision}) to {snap.path} "
               f"({snap.size} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the database with the snapshot at PATH, all or nothing. Stop the web
    app and `jobs run` first; run `db upgrade` after when the code is newer."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace everything in the database with {path}?", abort=True)
    try:
        snap = backups.restore(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored the {snap.kind} database from {snap.path}; it is at schema "
               f"{snap.revision}. Run `flask --app wsgi db upgrade` if the code is newer.")


def register_cli(app, make_app) -> None:
    """The commands, on ``app``; ``make_app`` (the app factory) builds the simulator's
    throwaway apps."""
    app.extensions["regroup_make_app"] = make_app
    app.cli.add_command(staff_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(simulate)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
