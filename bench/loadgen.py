"""Load generators for bench.api: `wrk` with a generated Lua script, or Python processes, for
the events bar; and the request mix of the memory bar (``mix_client``).

Both send the same requests, an endless cycle of lifecycle events on a pool of hazards that
stand in ``rectifying``:

    submit (principal) → reject (acceptance team, with a reason and a fresh deadline) → submit …

No two requests on one case are ever in flight together, and each is the case's right next
event, so every request is a real transition that answers 200:

* wrk: each thread owns every n-th case of the pool and keeps a queue of the cases that have no
  request in flight; a case goes back in the queue when its answer (``case_id``, ``state``)
  arrives. The bare reference route answers no state; there the queue rotates at once, so it
  gets the same requests in the same order.
* Python: connection ``j`` of ``C`` owns the cases ``j, j + C, …`` and sends ``submit`` then
  ``reject`` on each in turn, waiting for every answer. ``--workers`` processes of asyncio
  connections write prepared bytes and read each answer by its Content-Length. It is the
  slower client (it shares the two cores with the server) and says so in its CPU figures.

Each ``reject`` of a case carries the next working day of a list as its deadline: re-arming the
整改期限 clock on a due date it had before collides with that clock's old timer keys (see
bench/README.md), so a case must not come round more often than the list is long (~390 rounds).
``version`` is not sent: the optimistic check is skipped; the guarded ``UPDATE … WHERE version =
:read`` still runs.

A worker process is this module run as a script::

    .venv/bin/python -m bench.loadgen --spec SPEC.json --worker 0 --workers 2 \\
        --start-at EPOCH --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.seed import Manifest

HOST = "127.0.0.1"
WRK_THREADS = 2  # wrk's threads: one per core of the machines this runs on
MAX_STEPS = 50_000_000  # per connection: a bound far beyond any run's duration
SUBMIT_DATA = {"rectified_on": "2024-03-20", "rectification_result": "已更换探头并完成联锁校验"}
REJECT_REASON = "验收不合格：联锁未投用，退回重新整改"


def _body(trigger: str, data: dict[str, Any]) -> str:
    return json.dumps({"trigger": trigger, "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


@dataclass(frozen=True)
class EventCycle:
    """The submit → reject cycle over a pool of cases, as both generators send it."""

    port: int
    cases: tuple[str, ...]
    submit_token: str
    reject_token: str
    deadlines: tuple[str, ...]  # working days, ISO; one per round of a case

    def submit_body(self) -> str:
        return _body("submit", SUBMIT_DATA)

    def reject_body(self, deadline: str) -> str:
        return _body("reject", {"reason": REJECT_REASON, "deadline": deadline})

    def owned(self, connection: int, connections: int) -> list[str]:
        return list(self.cases[connection::connections])

    def step(self, mine: Sequence[str], step: int) -> tuple[str, str, str]:
        """(path, token, body) of a connection's `step`-th request."""
        pair, phase = divmod(step, 2)
        round_, index = divmod(pair, len(mine))
        path = f"/cases/{mine[index]}/events"
        if phase == 0:
            return path, self.submit_token, self.submit_body()
        deadline = self.deadlines[round_ % len(self.deadlines)]
        return path, self.reject_token, self.reject_body(deadline)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> EventCycle:
        raw = json.loads(text)
        return cls(int(raw["port"]), tuple(raw["cases"]), str(raw["submit_token"]),
                   str(raw["reject_token"]), tuple(raw["deadlines"]))


@dataclass
class LoadResult:
    """What one timed run of a generator saw."""

    generator: str
    connections: int
    seconds: float
    responses: int
    non_200: int = 0
    socket_errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    latency_mean_ms: float | None = None
    cpu_seconds: float = 0.0  # the generator's own CPU time (user + system)

    @property
    def per_s(self) -> float:
        return self.responses / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.non_200 + self.socket_errors

    def summary(self) -> dict[str, Any]:
        return {"generator": self.generator, "connections": self.connections,
                "seconds": round(self.seconds, 3), "responses": self.responses,
                "per_s": round(self.per_s, 1), "non_200": self.non_200,
                "socket_errors": self.socket_errors, "statuses": self.statuses,
                "first_error": self.first_error,
                "latency_mean_ms": (None if self.latency_mean_ms is None
                                    else round(self.latency_mean_ms, 3)),
                "generator_cpu_s": round(self.cpu_seconds, 3),
                "generator_cores": round(self.cpu_seconds / self.seconds, 3)
                if self.seconds > 0 else None}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- wrk ---------------------------------------------------------------------------------------

def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua(value: str) -> str:
    """A Lua string literal."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'


_LUA = """\
-- written by bench/loadgen.py: the submit -> reject cycle over this thread's share of the pool
local ids_file = {ids_file}
local nthreads = {threads}
local track = {track}
local submit_auth = {submit_auth}
local reject_auth = {reject_auth}
local submit_body = {submit_body}
local reject_head = {reject_head}
local reject_tail = {reject_tail}
local deadlines = {{{deadlines}}}

local threads = {{}}
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  ready, head, tail = {{}}, 1, 0   -- cases with no request in flight, oldest first
  state, rounds = {{}}, {{}}
  local i = 0
  for line in io.lines(ids_file) do
    if i % nthreads == tid then
      tail = tail + 1
      ready[tail] = line
      state[line] = "rectifying"
      rounds[line] = 0
    end
    i = i + 1
  end
  -- wrk calls request() once more on thread 0, right after init, to check the script, and
  -- never sends that request: it must not take a case out of the cycle.
  checking = (tid == 0)
  responses, non200, lost, first_error = 0, 0, 0, ""
end

local function event(id, send)
  local headers = {{["Content-Type"] = "application/json"}}
  local body
  if state[id] == "rectifying" then
    headers["Authorization"] = submit_auth
    body = submit_body
  else
    local r = rounds[id]
    if send then rounds[id] = r + 1 end
    headers["Authorization"] = reject_auth
    body = reject_head .. deadlines[(r % #deadlines) + 1] .. reject_tail
  end
  return wrk.format("POST", "/cases/" .. id .. "/events", headers, body)
end

function request()
  if checking then
    checking = false
    return event(ready[head], false)
  end
  local id = ready[head]
  ready[head] = nil
  head = head + 1
  if not track then  -- the bare route answers no state: rotate at once
    tail = tail + 1
    ready[tail] = id
    if state[id] == "rectifying" then state[id] = "awaiting" else state[id] = "rectifying" end
  end
  return event(id, true)
end

-- With tracking, a case goes back in the queue when its answer says where it stands now, so
-- that no two requests on one case are ever in flight and each is the right next event.
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
  if track then
    local id = string.match(body or "", '"case_id":"(%x+)"')
    local now = string.match(body or "", '"state":"([%w_]+)"')
    if status == 200 and id and now then
      state[id] = now
      tail = tail + 1
      ready[tail] = id
    else
      lost = lost + 1   -- out of the cycle; counted as an error above
    end
  end
end

function done(summary, latency, requests)
  local counted, bad, lost_all, first = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    counted = counted + t:get("responses")
    bad = bad + t:get("non200")
    lost_all = lost_all + t:get("lost")
    local e = t:get("first_error")
    if first == "" and e ~= nil and e ~= "" then first = e end
  end
  local e = summary.errors
  io.write(string.format(
    "PAICHA_WRK %d %d %d %d %d %d %d %d %d %.3f %d\\n",
    summary.requests, summary.duration, counted, bad,
    e.connect, e.read, e.write, e.status, e.timeout, latency.mean, lost_all))
  io.write("PAICHA_WRK_FIRST_ERROR " .. first .. "\\n")
end
"""


def wrk_script(cycle: EventCycle, threads: int, folder: Path, *, track: bool) -> Path:
    """Write the Lua script (and the case ids it reads) into `folder`; its path."""
    tag = f"{cycle.port}-{cycle.cases[0][:8]}"
    ids = folder / f"cases-{tag}.txt"
    ids.write_text("".join(f"{case}\n" for case in cycle.cases), encoding="utf-8")
    marker = "@@DEADLINE@@"
    head, tail = cycle.reject_body(marker).split(marker)
    script = _LUA.format(
        ids_file=_lua(str(ids)), threads=threads, track="true" if track else "false",
        submit_auth=_lua(f"Bearer {cycle.submit_token}"),
        reject_auth=_lua(f"Bearer {cycle.reject_token}"),
        submit_body=_lua(cycle.submit_body()), reject_head=_lua(head), reject_tail=_lua(tail),
        deadlines=", ".join(_lua(d) for d in cycle.deadlines))
    path = folder / f"cycle-{tag}.lua"
    path.write_text(script, encoding="utf-8")
    return path


def run_wrk(cycle: EventCycle, *, connections: int, duration: float, folder: Path,
            track: bool = True) -> LoadResult:
    """One wrk run of `duration` seconds: `connections` keep-alive connections on up to two
    threads (one per core). `track`: the server answers each case's state (bench.api's bare
    route does not, and gets the same requests in the same order without waiting)."""
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    threads = max(1, min(connections, WRK_THREADS))
    script = wrk_script(cycle, threads, folder, track=track)
    seconds = max(1, round(duration))
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", str(script), f"http://{HOST}:{cycle.port}"]
    before = _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    cpu = _children_cpu() - before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    numbers: list[str] | None = None
    first_error: str | None = None
    for line in done.stdout.splitlines():
        if line.startswith("PAICHA_WRK_FIRST_ERROR"):
            first_error = line.removeprefix("PAICHA_WRK_FIRST_ERROR").strip() or None
        elif line.startswith("PAICHA_WRK "):
            numbers = line.split()[1:]
    if numbers is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout.strip()[:500]} "
                           f"{done.stderr.strip()[:500]}")
    requests, duration_us, counted, bad = (int(n) for n in numbers[:4])
    connect, read, write, _status, timeout = (int(n) for n in numbers[4:9])
    latency_us, lost = float(numbers[9]), int(numbers[10])
    return LoadResult(f"wrk -t{threads}", connections, duration_us / 1e6, requests,
                      non_200=bad, socket_errors=connect + read + write + timeout,
                      statuses={"counted_by_lua": counted, "cases_out_of_cycle": lost},
                      first_error=first_error, latency_mean_ms=latency_us / 1000.0,
                      cpu_seconds=cpu)


# -- Python ------------------------------------------------------------------------------------

def _request_bytes(cycle: EventCycle, path: str, token: str, body: str) -> bytes:
    payload = body.encode("utf-8")
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{cycle.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n")
    return head.encode("ascii") + payload


class _Tally:
    def __init__(self) -> None:
        self.responses = 0
        self.non_200 = 0
        self.socket_errors = 0
        self.statuses: dict[str, int] = {}
        self.first_error: str | None = None
        self.latency = 0.0


async def _connection(cycle: EventCycle, mine: list[str], start: float, end: float,
                      tally: _Tally) -> None:
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.open_connection(HOST, cycle.port)
    except OSError as exc:
        tally.socket_errors += 1
        tally.first_error = tally.first_error or f"connect: {exc}"
        return
    await asyncio.sleep(max(0.0, start - time.time()))
    try:
        for step in range(MAX_STEPS):
            if loop.time() >= end:
                break
            sent = loop.time()
            writer.write(_request_bytes(cycle, *cycle.step(mine, step)))
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12].decode("ascii", "replace")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if loop.time() > end:
                break  # answered after the window closed: not counted, as with wrk
            tally.responses += 1
            tally.latency += loop.time() - sent
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status != "200":
                tally.non_200 += 1
                tally.first_error = tally.first_error or f"{status} {body[:300]!r}"
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        tally.socket_errors += 1
        tally.first_error = tally.first_error or f"socket: {exc!r}"
    finally:
        writer.close()


async def _worker(cycle: EventCycle, connections: Sequence[int], total: int, start: float,
                  duration: float) -> tuple[_Tally, float]:
    loop = asyncio.get_running_loop()
    tally = _Tally()
    # `start` is wall-clock (shared by all workers); the window runs on the loop's clock.
    begin = loop.time() + max(0.0, start - time.time())
    await asyncio.gather(*(_connection(cycle, cycle.owned(j, total), start, begin + duration,
                                       tally) for j in connections))
    return tally, loop.time() - begin


def worker_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True, help="wall-clock epoch")
    parser.add_argument("--duration", type=float, required=True)
    args = parser.parse_args(argv)
    cycle = EventCycle.from_json(args.spec.read_text(encoding="utf-8"))
    mine = range(args.worker, args.connections, args.workers)
    tally, seconds = asyncio.run(_worker(cycle, mine, args.connections, args.start_at,
                                         args.duration))
    print(json.dumps({"responses": tally.responses, "non_200": tally.non_200,
                      "socket_errors": tally.socket_errors, "statuses": tally.statuses,
                      "first_error": tally.first_error, "latency_s": tally.latency,
                      "seconds": seconds}))
    return 0


def run_python(cycle: EventCycle, *, connections: int, duration: float, folder: Path,
               workers: int | None = None) -> LoadResult:
    """`workers` processes (default: one per core) share `connections` asyncio connections."""
    count = max(1, min(connections, workers or os.cpu_count() or 1))
    spec = folder / f"cycle-{cycle.port}.json"
    spec.write_text(cycle.to_json(), encoding="utf-8")
    start = time.time() + 2.0  # every worker imported and connected by then
    root = Path(__file__).resolve().parent.parent
    before = _children_cpu()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen", "--spec", str(spec), "--worker", str(w),
         "--workers", str(count), "--connections", str(connections), "--start-at", str(start),
         "--duration", str(duration)], cwd=root, stdout=subprocess.PIPE, text=True)
        for w in range(count)]
    outputs: list[dict[str, Any]] = []
    try:
        for process in processes:
            out, _ = process.communicate(timeout=duration + 60)
            if process.returncode != 0:
                raise RuntimeError(f"load generator worker failed ({process.returncode})")
            outputs.append(json.loads(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    cpu = _children_cpu() - before
    responses = sum(int(o["responses"]) for o in outputs)
    statuses: dict[str, int] = {}
    for o in outputs:
        for status, n in o["statuses"].items():
            statuses[status] = statuses.get(status, 0) + int(n)
    first = next((o["first_error"] for o in outputs if o["first_error"]), None)
    latency = sum(float(o["latency_s"]) for o in outputs)
    return LoadResult(
        f"python-asyncio x{count}", connections, max(float(o["seconds"]) for o in outputs),
        responses, non_200=sum(int(o["non_200"]) for o in outputs),
        socket_errors=sum(int(o["socket_errors"]) for o in outputs), statuses=statuses,
        first_error=first,
        latency_mean_ms=latency / responses * 1000.0 if responses else None, cpu_seconds=cpu)


def run(kind: str, cycle: EventCycle, *, connections: int, duration: float, folder: Path,
        track: bool = True) -> LoadResult:
    """Drive the cycle with `kind` ('wrk' or 'python') for `duration` seconds."""
    if kind == "wrk":
        return run_wrk(cycle, connections=connections, duration=duration, folder=folder,
                       track=track)
    return run_python(cycle, connections=connections, duration=duration, folder=folder)


# -- the request mix of the memory bar (httpx, threads of one process) ---------------------------

# (name, query, token): what the list clients ask, the regulator's token reaching the district
LIST_QUERIES: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("district", {"limit": 50}, "regulator"),
    ("district state=rectifying", {"state": "rectifying", "limit": 50}, "regulator"),
    ("district grade:major open", {"field": "grade:major", "open": "true", "limit": 50},
     "regulator"),
    ("district org=s03", {"org": "s03", "limit": 100}, "regulator"),
    ("district overdue", {"overdue": "true", "limit": 50}, "regulator"),
    ("district campaign/type/state", {"campaign": "special-action-2023", "type": "hazard",
                                      "state": "awaiting_acceptance", "limit": 50}, "regulator"),
    ("street s01", {"limit": 50}, "street_locality"),
    ("street s01 open", {"open": "true", "limit": 50}, "street_locality"),
)
# Each client has one job, so that slow lists cannot crowd out reads and events.
ROLES = ("list", "read", "fire", "read")



@dataclass
class Tally:
    """Requests of one kind: count, errors, latency."""

    count: int = 0
    errors: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    first_error: str | None = None

    def add(self, seconds: float, status: int, body: str) -> None:
        self.count += 1
        self.seconds += seconds
        self.slowest = max(self.slowest, seconds)
        if status >= 300:
            self.errors += 1
            self.first_error = self.first_error or f"{status} {body[:300]}"

    def summary(self) -> dict[str, Any]:
        return {"count": self.count, "errors": self.errors,
                "mean_ms": round(self.seconds / self.count * 1000, 2) if self.count else None,
                "max_ms": round(self.slowest * 1000, 1), "first_error": self.first_error}


@dataclass
class MixState:
    tallies: dict[str, Tally] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int, body: str) -> None:
        with self.lock:
            self.tallies.setdefault(kind, Tally()).add(seconds, status, body)


def mix_client(port: int, manifest: Manifest, role: str, cases: list[dict[str, str]],
                deadlines: Sequence[str], seed: int, until: float, state: MixState) -> None:
    """One client of the mix until `until`: a lister, a reader or an event firer."""
    import httpx

    rng = random.Random(seed)
    tokens = {"regulator": manifest.tokens["regulator"],
              "street_locality": manifest.tokens["street_locality"]}
    regulator = {"Authorization": f"Bearer {tokens['regulator']}"}
    # case -> (state, index of its next reject's deadline); read before its first event
    known: dict[str, tuple[str, int]] = {}
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=120) as client:

        def call(kind: str, method: str, url: str, **kwargs: Any) -> Any:
            began = time.perf_counter()
            response = client.request(method, url, **kwargs)
            state.record(kind, time.perf_counter() - began, response.status_code,
                         response.text if response.status_code >= 300 else "")
            return response.json() if response.status_code < 300 else None

        for _ in range(10_000_000):
            if time.monotonic() >= until:
                break
            if role == "list":
                name, query, token = rng.choice(LIST_QUERIES)
                headers = {"Authorization": f"Bearer {tokens[token]}"}
                page = call(f"list {name}", "GET", "/cases", params=query, headers=headers)
                for _ in range(2):  # the next pages, now and then
                    if not page or not page.get("next_cursor") or rng.random() < 0.5:
                        break
                    page = call("list next page", "GET", "/cases", headers=headers,
                                params={**query, "cursor": page["next_cursor"]})
            elif role == "read" or not cases:
                case_id = rng.choice(manifest.read_sample)
                kind, suffix = rng.choice((("read", ""), ("read", ""), ("history", "/history"),
                                           ("triggers", "/triggers")))
                call(kind, "GET", f"/cases/{case_id}{suffix}", headers=regulator)
            else:
                case = rng.choice(cases)
                case_id = case["case"]
                if case_id not in known:
                    # Where it stands, and a deadline later than any it had: a clock re-armed
                    # on an old due date collides with its old timer keys.
                    stored = call("read", "GET", f"/cases/{case_id}", headers=regulator)
                    if stored is None:
                        cases.remove(case)
                        continue
                    after = str(stored["data"].get("deadline", ""))
                    known[case_id] = (stored["state"], bisect.bisect_right(deadlines, after))
                now, index = known[case_id]
                if now == "rectifying":
                    token = manifest.principals[case["unit"]]
                    body = {"trigger": "submit", "data": {"rectified_on": "2024-03-01",
                                                          "rectification_result": "已整改"}}
                elif now == "awaiting_acceptance" and index < len(deadlines):
                    token = tokens["regulator"]
                    body = {"trigger": "reject", "data": {"reason": "整改不到位",
                                                          "deadline": deadlines[index]}}
                    index += 1
                else:
                    cases.remove(case)
                    continue
                answer = call(f"fire {body['trigger']}", "POST", f"/cases/{case_id}/events",
                              json=body, headers={"Authorization": f"Bearer {token}"})
                if answer is None:
                    cases.remove(case)
                else:
                    known[case_id] = (str(answer["state"]), index)


if __name__ == "__main__":
    raise SystemExit(worker_main())
