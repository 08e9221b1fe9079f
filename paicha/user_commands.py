"""`paicha user create|list|disable|reset-password`: people's accounts for the screens, made
and kept from the shell (storage.users), scoped and checked as `paicha token create`'s tokens.

A password never comes as an argument (it would show in `ps` and the shell's history): it is
asked twice on a terminal, read as one line from stdin otherwise (or with --password-stdin),
or made here with --generate and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from typing import Any

from api.services import campaign_loader, system_clock
from engine import texts
from engine.errors import PaichaError
from paicha.admin import add_scope_options, scope_of
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed
from storage import users
from storage.campaigns import CampaignRegistry, vocabulary


def generated_password() -> str:
    """A random password of 16 characters (96 bits), for --generate."""
    return secrets.token_urlsafe(12)


def read_password(args: argparse.Namespace, command: str) -> tuple[str, bool]:
    """The new password and whether it was generated (then the command prints it once)."""
    if args.generate:
        return generated_password(), True
    if args.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
    else:
        password = getpass.getpass(texts.t("cli.user.password.prompt"))
        if getpass.getpass(texts.t("cli.user.password.again")) != password:
            raise CommandFailed([texts.t("cli.user.password.mismatch", command=command)])
    if not password:
        raise CommandFailed([texts.t("cli.user.password.none", command=command)])
    return password, False


def _scope_text(row: dict[str, Any]) -> str:
    return str(row["scope"]) + (f" {row['scope_id']}" if row["scope_id"] else "")


def cmd_user_create(args: argparse.Namespace) -> int:
    kind, scope = scope_of(args, "cli.user.no_scope")
    password, generated = read_password(args, "user create")
    db = open_database(args, "user create", writes=True)
    now = system_clock()
    try:
        with db.write() as conn:
            words = vocabulary(CampaignRegistry(campaign_loader), conn)
            made = users.create(conn, login=args.login, name=args.name or args.login,
                                password=password, roles=args.role or [], scope_kind=kind,
                                scope_id=scope, now=now, by="paicha user create",
                                vocabulary=words)
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="user create", error=exc)]) \
            from None
    finally:
        db.dispose()
    if generated:
        print(password)
    print(texts.t("cli.user.created", id=made["id"], login=made["login"],
                  roles=", ".join(made["roles"]) or texts.t("cli.token.setup"),
                  scope=_scope_text(made)), file=sys.stderr)
    return 0


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in row.items()}


def cmd_user_list(args: argparse.Namespace) -> int:
    db = open_database(args, "user list")
    now = system_clock()
    after = None
    found: list[dict[str, Any]] = []
    try:
        while True:
            with db.read() as conn:
                rows = users.list_users(conn, now=now, after=after)
            for row in rows:
                if args.json:
                    found.append(_as_json(row))
                else:
                    print(f"{row['id']:>5}  {row['state']:8}  {_scope_text(row):24}  "
                          f"{','.join(row['roles']) or '-':30}  {row['login']:20}  "
                          f"{row['name']}")
            if not rows:
                break
            after = rows[-1]["id"]
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    db = open_database(args, "user disable", writes=True)
    try:
        with db.write() as conn:
            done = users.disable(conn, args.login, now=system_clock(),
                                 by="paicha user disable")
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="user disable", error=exc)]) \
            from None
    finally:
        db.dispose()
    print(texts.t("cli.user.disabled", login=done["login"]), file=sys.stderr)
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    password, generated = read_password(args, "user reset-password")
    db = open_database(args, "user reset-password", writes=True)
    try:
        with db.write() as conn:
            done = users.reset_password(conn, args.login, password, now=system_clock(),
                                        by="paicha user reset-password")
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="user reset-password",
                                     error=exc)]) from None
    finally:
        db.dispose()
    if generated:
        print(password)
    print(texts.t("cli.user.password_reset", login=done["login"]), file=sys.stderr)
    return 0


def _password_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true",
                        help=texts.t("cli.user.password_stdin_help"))
    source.add_argument("--generate", action="store_true",
                        help=texts.t("cli.user.generate_help"))


def register(commands: Any) -> None:
    t = texts.t
    user = commands.add_parser("user", help=t("cli.user.help"))
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")

    # no abbreviations: `--password SECRET` must be refused, not read as --password-stdin
    create = user_commands.add_parser("create", help=t("cli.user.create.help"),
                                      description=t("cli.user.create.description"),
                                      allow_abbrev=False)
    create.add_argument("login", help=t("cli.user.login_help"))
    add_scope_options(create, "cli.user.create")
    _password_options(create)
    add_database_option(create)
    create.set_defaults(run=cmd_user_create)

    listing = user_commands.add_parser("list", help=t("cli.user.list.help"))
    listing.add_argument("--json", action="store_true", help=t("cli.user.list.json_help"))
    add_database_option(listing)
    listing.set_defaults(run=cmd_user_list)

    disable = user_commands.add_parser("disable", help=t("cli.user.disable.help"))
    disable.add_argument("login", help=t("cli.user.login_help"))
    add_database_option(disable)
    disable.set_defaults(run=cmd_user_disable)

    reset = user_commands.add_parser("reset-password", help=t("cli.user.reset.help"),
                                     description=t("cli.user.reset.description"),
                                     allow_abbrev=False)
    reset.add_argument("login", help=t("cli.user.login_help"))
    _password_options(reset)
    add_database_option(reset)
    reset.set_defaults(run=cmd_user_reset_password)
