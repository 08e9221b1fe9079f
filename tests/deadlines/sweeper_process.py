"""A sweeper in its own process, for the crash and sharing tests: sweeps until nothing is due,
optionally pausing on each timer so that a test can kill it in the middle of a batch."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from sqlalchemy import Connection

from api.services import campaign_loader
from deadlines.sweep import Sweeper
from storage.campaigns import CampaignRegistry
from storage.db import Database


class SlowSweeper(Sweeper):
    """Pauses inside each batch's transaction, `pause` seconds per timer claimed."""

    pause = 0.0

    def _claim(self, conn: Connection, now: dt.datetime) -> list[Any]:
        claimed = super()._claim(conn, now)
        if self.pause:
            time.sleep(self.pause * len(claimed))
        return claimed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--now", required=True)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    db = Database(args.url)
    now = dt.datetime.fromisoformat(args.now)
    sweeper = SlowSweeper(db, CampaignRegistry(campaign_loader), batch=args.batch,
                          clock=lambda: now)
    sweeper.pause = args.pause
    print("ready", flush=True)
    claimed = 0
    while True:
        result = sweeper.sweep()
        claimed += result.claimed
        if result.claimed == 0:
            break
    db.dispose()
    json.dump({"claimed": claimed}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
