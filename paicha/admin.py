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
    print(f"database at revision {current_revision(url)}", file=sys.stderr)
    return 0


_LIFETIME = re.compile(r"^\s*(\d{1,6})\s*([dh])\s*$")
MAX_LIFETIME = dt.timedelta(days=3660)


def lifetime(text: str) -> dt.timedelta:
    """A token's lifetime as the shell gives it: `90d` (days) or `12h` (hours)."""
    found = _LIFETIME.match(text)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a lifetime: write days or hours, like 90d, 30d or 12h")
    number, unit = int(found.group(1)), found.group(2)
    span = dt.timedelta(days=number) if unit == "d" else dt.timedelta(hours=number)
    if not dt.timedelta(0) < span <= MAX_LIFETIME:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a token lives from 1h to {MAX_LIFETIME.days}d")
    return span


def cmd_token_create(args: argparse.Namespace) -> int:
    kind: ScopeKind
    if args.admin:
        kind, scope = "admin", None
    elif args.org:
        kind, scope = "org", args.org
    elif args.unit:
        kind, scope = "unit", args.unit
    else:
        raise CommandFailed(["paicha token create: say the scope: --org ORG, --unit UNIT or "
                             "--admin"], code=2)
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
        raise CommandFailed([f"paicha token create: {exc}"]) from None
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(issued.as_dict(), ensure_ascii=False))
    else:
        print(issued.secret)
        until = ("no expiry" if expires_at is None
                 else f"expires {expires_at:%Y-%m-%d %H:%M} UTC")
        print(f"token {issued.id} for {', '.join(issued.roles) or 'setup'} "
              f"({kind}{' ' + scope if scope else ''}), {until}; shown once, keep it safe",
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
        raise CommandFailed([f"paicha token revoke: {exc}"]) from None
    finally:
        db.dispose()
    # No process's cache can be reached from here: a running `paicha serve` stops accepting
    # the token when its cached answer lapses (DELETE /tokens/{id} on it is immediate).
    print(f"token {args.id} revoked; running API processes refuse it within "
          f"PAICHA_TOKEN_CACHE_SECONDS (10 s by default)", file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema: upgrade to the newest migration")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="apply every pending migration")
    add_database_option(up)
    up.set_defaults(run=cmd_db_upgrade)

    token = commands.add_parser("token", help="make, list and revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser(
        "create", help="make a bearer token (printed once)",
        description="Make a bearer token holding ROLEs within an org's subtree or one unit, "
                    "or an admin token for setup. The token is printed once; only its hash "
                    "is stored.")
    create.add_argument("--role", action="append", metavar="ROLE",
                        help="a role id of the campaigns (principal, locality …); repeatable")
    scope = create.add_mutually_exclusive_group()
    scope.add_argument("--org", metavar="ORG", help="the org whose subtree the token reaches")
    scope.add_argument("--unit", metavar="UNIT", help="the one unit the token reaches")
    scope.add_argument("--admin", action="store_true", help="setup rights everywhere, no role")
    create.add_argument("--name", help="who holds it, for the audit log")
    create.add_argument("--expires", type=lifetime, metavar="LIFETIME",
                        help="stop working after this long: 90d, 30d, 12h … (default: until "
                             "revoked)")
    create.add_argument("--json", action="store_true", help="print the token as JSON")
    add_database_option(create)
    create.set_defaults(run=cmd_token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    add_database_option(listing)
    listing.set_defaults(run=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int, help="the token's number (from `paicha token list`)")
    add_database_option(revoke)
    revoke.set_defaults(run=cmd_token_revoke)

    audit_commands.register(commands)
