"""`paicha db upgrade`, `paicha token …` and `paicha audit …` (paicha.audit_commands): setting up
and checking a deployment's database from the shell."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import Any

from api.services import campaign_loader, system_clock
from engine import texts
from engine.access import ScopeKind
from engine.errors import PaichaError
from paicha import audit_commands
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed
from storage import tokens
from storage.campaigns import CampaignRegistry, vocabulary
from storage.db import current_revision, database_url, upgrade
from storage.readiness import check_upgradable


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = args.database or database_url()
    check_upgradable(url)
    upgrade(url)
    print(texts.t("cli.db.upgraded", revision=current_revision(url)), file=sys.stderr)
    return 0


_LIFETIME = re.compile(r"^\s*(\d{1,6})\s*([dh])\s*$")
MAX_LIFETIME = dt.timedelta(days=3660)


def lifetime(text: str) -> dt.timedelta:
    """A token's lifetime as the shell gives it: `90d` (days) or `12h` (hours)."""
    found = _LIFETIME.match(text)
    if found is None:
        raise argparse.ArgumentTypeError(texts.t("cli.token.not_a_lifetime", text=text))
    number, unit = int(found.group(1)), found.group(2)
    span = dt.timedelta(days=number) if unit == "d" else dt.timedelta(hours=number)
    if not dt.timedelta(0) < span <= MAX_LIFETIME:
        raise argparse.ArgumentTypeError(
            texts.t("cli.token.lifetime_range", text=text, days=MAX_LIFETIME.days))
    return span


def add_scope_options(parser: argparse.ArgumentParser, helps: str) -> None:
    """What a token or a person's account holds: `--role` (repeated), one of `--org`,
    `--unit` or `--admin`, and `--name`; their help texts are `<helps>.<option>_help`
    (the role's is the token's, the same words)."""
    parser.add_argument("--role", action="append", metavar="ROLE",
                        help=texts.t("cli.token.create.role_help"))
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--org", metavar="ORG", help=texts.t(f"{helps}.org_help"))
    scope.add_argument("--unit", metavar="UNIT", help=texts.t(f"{helps}.unit_help"))
    scope.add_argument("--admin", action="store_true", help=texts.t(f"{helps}.admin_help"))
    parser.add_argument("--name", help=texts.t(f"{helps}.name_help"))


def scope_of(args: argparse.Namespace, missing: str) -> tuple[ScopeKind, str | None]:
    """The scope the options of `add_scope_options` give; CommandFailed (`missing`, a
    catalogue id) when none is given."""
    if args.admin:
        return "admin", None
    if args.org:
        return "org", args.org
    if args.unit:
        return "unit", args.unit
    raise CommandFailed([texts.t(missing)], code=2)


def cmd_token_create(args: argparse.Namespace) -> int:
    kind, scope = scope_of(args, "cli.token.no_scope")
    db = open_database(args, "token create", writes=True)
    now = system_clock()
    expires_at = None if args.expires is None else now + args.expires
    try:
        with db.write() as conn:
            words = vocabulary(CampaignRegistry(campaign_loader), conn)
            issued = tokens.create(conn, name=args.name or f"{kind} {scope or ''}".strip(),
                                   roles=args.role or [], scope_kind=kind, scope_id=scope,
                                   now=now, by="paicha token create", vocabulary=words,
                                   expires_at=expires_at)
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="token create", error=exc)]) \
            from None
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(issued.as_dict(), ensure_ascii=False))
    else:
        print(issued.secret)
        until = (texts.t("cli.token.no_expiry") if expires_at is None
                 else texts.t("cli.token.expires", at=expires_at))
        print(texts.t("cli.token.created", id=issued.id,
                      roles=", ".join(issued.roles) or texts.t("cli.token.setup"),
                      scope=f"{kind}{' ' + scope if scope else ''}", until=until),
              file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    db = open_database(args, "token list")
    now = system_clock()
    after = None
    try:
        while True:
            with db.read() as conn:
                rows = tokens.list_tokens(conn, now=now, after=after)
            for row in rows:
                scope = row["scope"] + (f" {row['scope_id']}" if row["scope_id"] else "")
                until = "-" if row["expires_at"] is None else f"{row['expires_at']:%Y-%m-%d}"
                print(f"{row['id']:>5}  {row['state']:8}  {until:10}  {scope:24}  "
                      f"{','.join(row['roles']) or '-':30}  {row['name']}")
            if not rows:
                break
            after = rows[-1]["id"]
    finally:
        db.dispose()
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    db = open_database(args, "token revoke", writes=True)
    try:
        with db.write() as conn:
            tokens.revoke(conn, args.id, now=system_clock(), by="paicha token revoke")
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="token revoke", error=exc)]) \
            from None
    finally:
        db.dispose()
    # No process's cache can be reached from here: a running `paicha serve` stops accepting
    # the token when its cached answer lapses (DELETE /tokens/{id} on it is immediate).
    print(texts.t("cli.token.revoked", id=args.id), file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    t = texts.t
    db = commands.add_parser("db", help=t("cli.db.help"))
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help=t("cli.db.upgrade.help"))
    add_database_option(up)
    up.set_defaults(run=cmd_db_upgrade)

    token = commands.add_parser("token", help=t("cli.token.help"))
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help=t("cli.token.create.help"),
                                       description=t("cli.token.create.description"))
    add_scope_options(create, "cli.token.create")
    create.add_argument("--expires", type=lifetime, metavar="LIFETIME",
                        help=t("cli.token.create.expires_help"))
    create.add_argument("--json", action="store_true", help=t("cli.token.create.json_help"))
    add_database_option(create)
    create.set_defaults(run=cmd_token_create)
    listing = token_commands.add_parser("list", help=t("cli.token.list.help"))
    add_database_option(listing)
    listing.set_defaults(run=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help=t("cli.token.revoke.help"))
    revoke.add_argument("id", type=int, help=t("cli.token.revoke.id_help"))
    add_database_option(revoke)
    revoke.set_defaults(run=cmd_token_revoke)

    audit_commands.register(commands)
