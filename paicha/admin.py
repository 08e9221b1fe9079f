"""`paicha db upgrade`, `paicha token …` and `paicha audit …` (paicha.audit_commands): setting up
and checking a deployment's database from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from api.services import campaign_loader, system_clock
from engine.access import ScopeKind
from engine.errors import PaichaError
from paicha import audit_commands
from paicha.files import CommandFailed
from storage import audit_key, audit_seal, tokens
from storage.campaigns import CampaignRegistry, declared_roles
from storage.db import Database, current_revision, database_url, upgrade


def _database(args: argparse.Namespace, *, writes: bool = False) -> Database:
    """The database with its audit key; one that `writes` refuses to go on without the key
    the log was sealed with (the entries it appends would be unsigned)."""
    url = args.database or database_url()
    try:
        db = Database(url, audit_key=audit_key.configured(url))
    except PaichaError as exc:
        raise CommandFailed([f"paicha {args.command}: {exc}"]) from None
    try:
        if writes:
            audit_seal.check_key(db)
    except PaichaError as exc:
        db.dispose()
        raise CommandFailed([f"paicha {args.command}: {exc}"]) from None
    return db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = args.database or database_url()
    upgrade(url)
    print(f"database at revision {current_revision(url)}", file=sys.stderr)
    return 0


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
    db = _database(args, writes=True)
    try:
        with db.write() as conn:
            known = declared_roles(CampaignRegistry(campaign_loader), conn)
            issued = tokens.create(conn, name=args.name or f"{kind} {scope or ''}".strip(),
                                   roles=args.role or [], scope_kind=kind, scope_id=scope,
                                   now=system_clock(), by="paicha token create", known_roles=known)
    except PaichaError as exc:
        raise CommandFailed([f"paicha token create: {exc}"]) from None
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(issued.as_dict(), ensure_ascii=False))
    else:
        print(issued.secret)
        print(f"token {issued.id} for {', '.join(issued.roles) or 'setup'} "
              f"({kind}{' ' + scope if scope else ''}); shown once, keep it safe",
              file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    db = _database(args)
    try:
        with db.read() as conn:
            rows = tokens.list_tokens(conn)
    finally:
        db.dispose()
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        scope = row["scope"] + (f" {row['scope_id']}" if row["scope_id"] else "")
        print(f"{row['id']:>5}  {state:8}  {scope:24}  {','.join(row['roles']) or '-':30}  "
              f"{row['name']}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    db = _database(args, writes=True)
    try:
        with db.write() as conn:
            tokens.revoke(conn, args.id, now=system_clock(), by="paicha token revoke")
    except PaichaError as exc:
        raise CommandFailed([f"paicha token revoke: {exc}"]) from None
    finally:
        db.dispose()
    print(f"token {args.id} revoked", file=sys.stderr)
    return 0


def _with_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL",
                        help="database URL (default: $PAICHA_DATABASE_URL or sqlite:///paicha.db)")


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema: upgrade to the newest migration")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="apply every pending migration")
    _with_database(up)
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
    create.add_argument("--json", action="store_true", help="print the token as JSON")
    _with_database(create)
    create.set_defaults(run=cmd_token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    _with_database(listing)
    listing.set_defaults(run=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    _with_database(revoke)
    revoke.set_defaults(run=cmd_token_revoke)

    audit_commands.register(commands)
