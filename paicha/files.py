"""Campaign files on disk: the bundled folder, the schema, and parent lookup by id."""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from engine import texts
from engine.errors import CampaignInvalid
from engine.loader import CampaignLoader, Loaded

_ID_LINE = re.compile(r"^id:\s*['\"]?([a-z][a-z0-9_-]*)['\"]?\s*(#.*)?$", re.MULTILINE)


def installed_dir(package: str) -> Path:
    """The folder of an installed package's data (the repository's folder in a checkout).

    pip unpacks wheels, so the data lies in a folder the campaign loader and Alembic can list;
    a zipped install is refused here rather than failing later on a missing file."""
    found = importlib.resources.files(package)
    if not isinstance(found, Path):
        raise RuntimeError(f"{package} is not installed as files on disk ({found}); install "
                           "paicha with pip, which unpacks it")
    return found


def bundled_dir() -> Path:
    """The bundled campaigns: $PAICHA_CAMPAIGNS_DIR, else the installed `paicha.campaigns`
    (campaigns/ of the repository)."""
    configured = os.environ.get("PAICHA_CAMPAIGNS_DIR")
    return Path(configured) if configured else installed_dir("paicha.campaigns")


def campaign_schema_text() -> str:
    """The campaign language's JSON Schema as shipped (`campaigns/schema/campaign.schema.json`)."""
    return (installed_dir("paicha.campaigns") / "schema" / "campaign.schema.json").read_text(
        encoding="utf-8")


@cache
def campaign_schema() -> dict[str, Any]:
    """The JSON Schema, parsed once per process."""
    schema: dict[str, Any] = json.loads(campaign_schema_text())
    return schema


def display_name(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class CampaignFiles:
    """Finds campaigns by id: files named first, then the bundled folder, then their folders."""

    def __init__(self, files: Iterable[Path] = (), folders: Iterable[Path] = ()) -> None:
        self._named = list(files)
        self._folders = [*folders, bundled_dir(), *{f.parent for f in self._named}]
        self._index: dict[str, Path] | None = None

    def _build_index(self) -> dict[str, Path]:
        index: dict[str, Path] = {}
        candidates = list(self._named)
        for folder in self._folders:
            if folder.is_dir():
                candidates.extend(sorted(folder.glob("*.yaml")))
        for path in candidates:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            match = _ID_LINE.search(text)
            if match:
                index.setdefault(match.group(1), path)
        return index

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        if self._index is None:
            self._index = self._build_index()
        path = self._index.get(campaign_id)
        if path is None:
            return None
        return path.read_text(encoding="utf-8"), display_name(path)

    def ids(self) -> Sequence[str]:
        if self._index is None:
            self._index = self._build_index()
        return sorted(self._index)


def loader_for(files: Iterable[Path] = ()) -> CampaignLoader:
    """A loader that finds parents among the given files and the bundled campaigns."""
    return CampaignLoader(campaign_schema(), CampaignFiles(files))


class CommandFailed(Exception):
    """A command cannot go on; `main` prints the lines to stderr and exits with `code`."""

    def __init__(self, lines: Iterable[object], code: int = 1) -> None:
        self.lines = [str(line) for line in lines]
        self.code = code
        super().__init__("; ".join(self.lines))


def read_text_file(path: Path) -> str:
    """A UTF-8 file's text (a campaign, a calendar year …), or CommandFailed saying why it
    cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandFailed([texts.t("cli.file.missing", path=path)]) from None
    except UnicodeDecodeError:
        raise CommandFailed([texts.t("cli.file.not_utf8", path=path)]) from None
    except OSError as exc:
        raise CommandFailed([texts.t("cli.file.unreadable", path=path, reason=exc.strerror)]
                            ) from None


read_campaign = read_text_file


def load_for_command(path: Path, *, warn: bool = True) -> Loaded:
    """Load a campaign for a command: warnings to stderr (if `warn`), problems as CommandFailed."""
    try:
        loaded = loader_for([path]).load(read_campaign(path), display_name(path))
    except CampaignInvalid as exc:
        raise CommandFailed(exc.problems) from None
    for warning in loaded.warnings if warn else ():
        print(warning, file=sys.stderr)
    return loaded
