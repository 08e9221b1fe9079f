"""docs/api.md works as written: its shell blocks run, in order, against `paicha serve --demo`
started as a user would start it (a subprocess on a fresh SQLite file)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def run_walkthrough(doc: Path, tmp_path: Path) -> str:
    """Run the shell blocks of `doc` against a fresh `paicha serve --demo`; their output."""
    blocks = [b for b in _shell_blocks(doc.read_text(encoding="utf-8"))
              if "paicha serve --demo" not in b]  # the service is started here
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "paicha", "serve", "--demo", "--port", str(port),
         "--database", f"sqlite:///{tmp_path / 'paicha.db'}", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.2)
        exports = [line.strip() for line in (tmp_path / "serve.log").read_text().splitlines()
                   if line.strip().startswith("export ")]
        assert {e.split("=")[0] for e in exports} >= {
            "export ADMIN", "export PRINCIPAL", "export COMMUNITY", "export ACCEPTANCE_TEAM",
            "export REGULATOR", "export GOVERNMENT", "export SAFETY_OFFICE",
            "export OTHER_STREET"}
        script = "set -euo pipefail\n" + "\n".join(exports) + "\n" + "\n".join(blocks)
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                             cwd=tmp_path, timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    assert ran.returncode == 0, ran.stderr + ran.stdout
    return ran.stdout


def test_every_command_of_the_walkthrough_works(tmp_path: Path) -> None:
    blocks = _shell_blocks(DOC.read_text(encoding="utf-8"))
    assert "paicha serve --demo" in blocks[0]  # the first block starts the service
    out = run_walkthrough(DOC, tmp_path)
    assert '"code":"role_not_allowed"' in out
    assert '"code":"stale_version"' in out and '"current_version":2' in out
    assert '"state":"awaiting_acceptance"' in out
    assert out.count('"completed":false') == 3
    assert '"state":"closed","state_name":"已销号"' in out
    assert '"clocks_stopped":["closure_report"]' in out
    assert '"ok":true' in out and '"breaks":[]' in out
    assert '"id":"u-gas-01"' in out
    assert '"campaign":"linyin-2024","version":1' in out and '"owner_org":"linyin"' in out
    assert '"code":"not_campaign_owner"' in out
    assert '"obligations_removed":' in out and '"still_covered_by":[]' in out
    assert '"name":"demo hotel_principal"' in out and '"state":"revoked"' in out
    # a 2027 整改期限 is accepted; provisional while the calendar lacks 2027
    assert '"deadlines":[{"clock":"rectification","due":"2027-01-15","provisional":' in out
    assert '"covered_by":"package"' in out


def test_the_reports_walkthrough_works(tmp_path: Path) -> None:
    out = run_walkthrough(DOC.parent / "reports.md", tmp_path)
    assert '"report":"dispatch"' in out and '"status":"submitted"' in out
    assert '"status":"not_yet"' in out or '"status":"missing"' in out
    assert '"code":"computed_figure"' in out and '"code":"out_of_scope"' in out
    assert '"replaces":' in out and '"rule":' in out and '"ledger":"inspection_list"' in out
    assert "序号,部分,项目,单位,数值" in out
    for name in ("dispatch.xlsx", "rectification.xlsx", "work.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
