"""The console's users: ``create-user`` and ``delete-user``.

There is no default user or password anywhere: the first admin is made here.
Each loads the app (``--app``) and works on its store's users
(:class:`~flask_gravicors.store.accounts.Accounts`), the same code the console's
Users page calls.
"""

from __future__ import annotations

import sys

import click

from ..store import ROLES
from . import EXIT_CONFLICT, gravicors
from .common import outcomes
from .store import app_store


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        # One line, without its newline (and a CR before it, from a Windows pipe).
        return line[:-1].removesuffix("\r") if line.endswith("\n") else line
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@gravicors.command("create-user", with_appcontext=False)
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="viewer reads; editor also saves and rolls back; admin also manages users",
)
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin (else it is prompted for)")
def create_user(name: str, role: str, password_stdin: bool) -> None:
    """Add a console user NAME with a role and a password (at least 8 characters).

    Exit status 2 when NAME is taken.
    """
    from ..store.accounts import UserExists

    with outcomes():
        accounts = app_store().accounts
        try:
            accounts.create_user(name, role, _password(password_stdin))
        except UserExists as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_CONFLICT)
    click.echo(f"created user {name} ({role})", err=True)


@gravicors.command("delete-user", with_appcontext=False)
@click.argument("name")
def delete_user(name: str) -> None:
    """Remove the console user NAME; their sessions end at once.

    Exit status 2 when there is no such user.
    """
    from ..store.accounts import UserNotFound

    with outcomes():
        try:
            app_store().accounts.delete_user(name)
        except UserNotFound as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_CONFLICT)
    click.echo(f"deleted user {name}", err=True)
