"""Flask CLI commands: `staff create`, `demo load`, `jobs run`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from scheduler.models import ROLES

staff_cli = AppGroup("staff", help="Staff accounts.")
demo_cli = AppGroup("demo", help="The Boston + Needham demo program.")
jobs_cli = AppGroup("jobs", help="The background-job process.")


def _now():
    return current_app.config["CLOCK"]()


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password", default=None, help="Console sign-in password (optional).")
def staff_create(email: str, role: str, name: str, password: str | None) -> None:
    """Create a staff user; the API token is the last line printed."""
    from scheduler.errors import DomainError
    from scheduler.passwords import hash_password
    from scheduler.services.staff import create_staff

    try:
        user, token = create_staff(email, role, _now(), name=name,
                                   password_hash=hash_password(password) if password else None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}). API token (shown once):")
    click.echo(token)


@staff_cli.command("password")
@click.argument("email")
@click.option("--password", default=None,
              help="The new console password (asked for, hidden, when left out).")
def staff_password(email: str, password: str | None) -> None:
    """Set a staff user's console sign-in password."""
    from scheduler.errors import DomainError
    from scheduler.services.staff import set_password, staff_by_email

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        user = set_password(staff_by_email(email).id, password, _now())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Password set for {user.role} {user.email}.")


@staff_cli.command("token")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="Create the user with this role when it does not exist yet.")
def staff_token(email: str, role: str | None) -> None:
    """Issue a new API token for a staff user; the token is the last line printed."""
    from scheduler.errors import DomainError
    from scheduler.services.staff import token_for_email

    try:
        user, token = token_for_email(email, _now(), create_role=role)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"New API token for {user.role} {user.email} (shown once):")
    click.echo(token)


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo program; running it twice changes nothing."""
    from scheduler.demo import load_demo

    summary = load_demo(_now(), current_app.config["POLICY"])
    click.echo(summary)


@jobs_cli.command("run")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
@click.option("--job", "names", multiple=True, help="With --once: only this job (repeatable).")
def jobs_run(once: bool, names: tuple[str, ...]) -> None:
    """Run the background jobs (one process; never inside web workers)."""
    from scheduler.jobs import run_forever, run_once

    if once:
        for name, result in run_once(current_app._get_current_object(), names).items():
            click.echo(f"{name}: {result}")
    else:
        run_forever(current_app._get_current_object())


def register_cli(app) -> None:
    app.cli.add_command(staff_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
