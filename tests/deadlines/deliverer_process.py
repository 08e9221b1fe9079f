"""A deliverer in its own process, for the pacing tests: on each line `tick <instant>` read from
stdin it delivers what is due at that instant (a fake clock the test moves) and answers
`done <sent> <delayed>`; it keeps nothing between ticks that is not in the database."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from deadlines.outbound import OutboundPolicy
from deadlines.outbox import Deliverer
from storage.db import Database


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    args = parser.parse_args()
    db = Database(args.url)
    now = [dt.datetime(2000, 1, 1, tzinfo=dt.UTC)]
    deliverer = Deliverer(db, clock=lambda: now[0],
                          outbound=OutboundPolicy.allowing("127.0.0.1"))
    print("ready", flush=True)
    for line in sys.stdin:
        word, _, value = line.strip().partition(" ")
        if word != "tick":
            break
        now[0] = dt.datetime.fromisoformat(value)
        run = deliverer.deliver()
        print(f"done {run.sent} {run.delayed}", flush=True)
    deliverer.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
