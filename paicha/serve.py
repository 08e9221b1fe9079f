"""`paicha serve`: migrate, publish the bundled campaigns, and serve the API on one machine."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from types import FrameType
from typing import Any

import prometheus_client
import uvicorn

from api.app import create_app, freeze_startup_heap
from api.services import Services, Settings, system_clock
from deadlines.scheduler import DeadlineJobs, Rhythm, background, blocking
from engine import texts
from paicha import audit_commands, demo, logs
from paicha.files import CommandFailed
from storage.bootstrap import Bundled, prepare
from storage.db import database_url, upgrade
from storage.readiness import check_upgradable


def _logging(args: argparse.Namespace) -> None:
    try:
        logs.configure(args.log_level, args.log_format)
    except ValueError as exc:  # a bad $PAICHA_LOG_FORMAT or $PAICHA_LOG_LEVEL
        raise CommandFailed([texts.t("cli.failed", command=args.command, error=exc)],
                            code=2) from None


def run(args: argparse.Namespace) -> int:
    _logging(args)
    settings = _settings(args, "serve")
    check_upgradable(settings.database_url)
    upgrade(settings.database_url)  # the audit key is made only for a log never sealed: look first
    key, made = audit_commands.key_for_serving(settings.database_url)
    settings = dataclasses.replace(settings, audit_key=key)
    services = Services.build(settings)
    now = system_clock()
    bundled = prepare(services.db, services.registry, settings.campaigns_dir, now=now)
    _print_bundled(services.db.url, bundled)
    print(f"paicha: {audit_commands.seal_for_serving(services.db, created=made, now=now)}",
          file=sys.stderr)
    if args.demo:
        with services.db.write() as conn:
            loaded = demo.load(conn, services.registry, now=now)
            if loaded is not None:
                demo.activity(conn, services.registry, loaded, now=now)
            elif demo.publish_campaign(conn, services.registry, now=now):
                print(texts.t("cli.demo.published_again", campaign=demo.DEMO_CAMPAIGN),
                      file=sys.stderr)
        if loaded is None:
            print(texts.t("cli.demo.loaded_before"), file=sys.stderr)
        else:
            _print_demo(loaded, args)
    app = create_app(services=services)
    scheduler = None
    jobs = DeadlineJobs(services.db, services.registry, outbound=settings.outbound)
    if not args.no_scheduler:
        scheduler = background(jobs, Rhythm(args.sweep_seconds, args.deliver_seconds))
    freeze_startup_heap()
    # log_config=None: uvicorn's lines, the access log too, go through paicha.logs' handler
    server = _Server(uvicorn.Config(app, host=args.host, port=args.port, log_config=None,
                                    log_level=args.log_level, access_log=args.access_log),
                     services)
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        jobs.close()
        services.close()
    return 0 if server.started else 1  # uvicorn said why (a port in use …)


class _Server(uvicorn.Server):
    """uvicorn, which on SIGTERM or Ctrl-C also tells the work on threads to stop (an import
    stops at its next checkpoint, api.offload) instead of waiting for it to end."""

    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.services.stopping.set()
        super().handle_exit(sig, frame)


def run_scheduler(args: argparse.Namespace) -> int:
    _logging(args)
    settings = _settings(args, "scheduler")
    check_upgradable(settings.database_url)
    services = Services.build(settings)
    upgrade(services.db.url)
    audit_commands.require_key(services.db, "scheduler")
    print(texts.t("cli.scheduler.started", database=services.db.url.split("@")[-1],
                  sweep=args.sweep_seconds, deliver=args.deliver_seconds), file=sys.stderr)
    jobs = DeadlineJobs(services.db, services.registry, outbound=services.settings.outbound)
    if args.metrics_port is not None:
        # this process's own counts (timers claimed, deliveries); the API's /metrics has the
        # database's gauges (docs/operations.md)
        prometheus_client.start_http_server(args.metrics_port, addr=args.metrics_host)
        print(texts.t("cli.scheduler.metrics", host=args.metrics_host, port=args.metrics_port),
              file=sys.stderr)
    scheduler = blocking(jobs, Rhythm(args.sweep_seconds, args.deliver_seconds))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        jobs.close()
        services.db.dispose()
    return 0


def _settings(args: argparse.Namespace, command: str) -> Settings:
    """The settings from the command line and the environment; a bad value stops the command
    with what to set instead of a traceback."""
    try:
        return Settings(database_url=args.database or database_url())
    except ValueError as exc:
        raise CommandFailed([texts.t("cli.failed", command=command, error=exc)],
                            code=2) from None


def _print_bundled(url: str, bundled: list[Bundled]) -> None:
    fresh = [f"{b.campaign_id} v{b.row.number}" for b in bundled if b.created]
    separator = texts.t("list.separator")
    campaigns = separator.join(b.campaign_id for b in bundled)
    print(texts.t("cli.serve.bundled_fresh", database=url.split("@")[-1], campaigns=campaigns,
                  fresh=separator.join(fresh)) if fresh else
          texts.t("cli.serve.bundled", database=url.split("@")[-1], campaigns=campaigns),
          file=sys.stderr)
    for b in bundled:
        if b.skipped:
            print(texts.t("cli.serve.bundled_skipped", campaign=b.campaign_id,
                          number=b.row.number, reason=b.skipped), file=sys.stderr)


def _print_demo(loaded: demo.Demo, args: argparse.Namespace) -> None:
    base = f"http://{args.host}:{args.port}"
    print("\n" + texts.t("cli.demo.loaded", campaign=demo.DEMO_CAMPAIGN), file=sys.stderr)
    for name, secret in loaded.tokens.items():
        print(f"  export {name.upper()}={secret}", file=sys.stderr)
    print("\n" + texts.t("cli.demo.api", docs=f"{base}/docs"), file=sys.stderr)
    print("\n" + texts.t("cli.demo.people", url=f"{base}/"), file=sys.stderr)
    for login, password in loaded.passwords.items():
        print(f"  {login:16} {password:14} {demo.PEOPLE[login]}", file=sys.stderr)
    print("", file=sys.stderr)


def register(commands: Any) -> None:
    t = texts.t
    parser = commands.add_parser("serve", help=t("cli.serve.help"),
                                 description=t("cli.serve.description"))
    parser.add_argument("--demo", action="store_true", help=t("cli.serve.demo_help"))
    parser.add_argument("--host", default="127.0.0.1", help=t("cli.serve.host_help"))
    parser.add_argument("--port", type=int, default=8000, help=t("cli.serve.port_help"))
    parser.add_argument("--database", metavar="URL", help=t("cli.database_help"))
    parser.add_argument("--access-log", action="store_true", help=t("cli.serve.access_log_help"))
    _log_options(parser)
    parser.add_argument("--no-scheduler", action="store_true",
                        help=t("cli.serve.no_scheduler_help"))
    _rhythm(parser)
    parser.set_defaults(run=run)

    sweeper = commands.add_parser("scheduler", help=t("cli.scheduler.help"),
                                  description=t("cli.scheduler.description"))
    sweeper.add_argument("--database", metavar="URL", help=t("cli.database_help"))
    sweeper.add_argument("--metrics-port", type=int, metavar="PORT",
                         help=t("cli.scheduler.metrics_port_help"))
    sweeper.add_argument("--metrics-host", default="127.0.0.1", metavar="ADDRESS",
                         help=t("cli.scheduler.metrics_host_help"))
    _log_options(sweeper)
    _rhythm(sweeper)
    sweeper.set_defaults(run=run_scheduler)


def _log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", type=str.lower, metavar="LEVEL",
                        default=os.environ.get("PAICHA_LOG_LEVEL", "info").lower(),
                        choices=logs.LEVELS,
                        help=texts.t("cli.log_level_help"))
    parser.add_argument("--log-format", metavar="FORMAT",
                        default=os.environ.get("PAICHA_LOG_FORMAT", "text"), choices=logs.FORMATS,
                        help=texts.t("cli.log_format_help"))


def _rhythm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sweep-seconds", type=float, default=10.0, metavar="S",
                        help=texts.t("cli.sweep_seconds_help"))
    parser.add_argument("--deliver-seconds", type=float, default=5.0, metavar="S",
                        help=texts.t("cli.deliver_seconds_help"))
