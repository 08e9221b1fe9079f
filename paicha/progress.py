"""A progress bar on stderr for a command that reads a long file (`paicha import`): plain text,
redrawn on one line with a carriage return, shown only where someone watches it."""

from __future__ import annotations

from typing import TextIO

from engine import texts

WIDTH = 30  # characters of the bar itself
LONG_BYTES = 256 * 1024  # a file this long (some thousand rows) takes long enough to watch
# the stages the importer reports (paicha.sheets, engine.subject_rows, storage.bulk) and their
# words in the catalogue; a stage not named here is shown as it is given
STAGES = {"读取": "cli.progress.reading", "检查": "cli.progress.checking",
          "写入": "cli.progress.writing"}


def wanted(asked: bool | None, stream: TextIO, size: int) -> bool:
    """Whether to show a bar: as asked (`--progress`/`--no-progress`), else on a terminal for a
    long file only — a script reading stderr gets no carriage returns."""
    if asked is not None:
        return asked
    return stream.isatty() and size >= LONG_BYTES


class Bar:
    """Called with (stage, done, total) as the work goes; `total` None draws a count only."""

    def __init__(self, stream: TextIO, label: str, *, shown: bool) -> None:
        self.stream, self.label, self.shown = stream, label, shown
        self._drawn = 0  # characters on the line now

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.shown:
            return
        stage = texts.t(STAGES[stage]) if stage in STAGES else stage
        if total:
            filled = WIDTH * min(done, total) // total
            text = (f"{self.label}  {stage}  [{'#' * filled}{'.' * (WIDTH - filled)}]  "
                    + texts.t("cli.progress.of", done=done, total=total))
        elif done:
            text = f"{self.label}  {stage}  " + texts.t("cli.progress.rows", done=done)
        else:
            text = f"{self.label}  {stage} …"
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)))
        self.stream.flush()
        self._drawn = len(text)

    def close(self) -> None:
        """End the bar's line, so that what follows starts on a line of its own."""
        if self.shown and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0
