"""Files in the paper forms' layout: the 调度表 (XLSX, CSV, a JSON-able dict) rendered from an
`engine.reports.FilledForm`, and the hazard ledgers (整改台账, 工作台账, 专项排查清单) rendered
from cases the caller hands over as plain data. Pure rendering: nothing here reads a database
or answers a request; the API and the CLI fetch the data and call these functions.

- `paicha.forms.text`: the words and numbers of a filled form (labels with units, figures of
  a row, dates in Chinese), shared by every format;
- `paicha.forms.dispatch`: the 调度表 as XLSX, CSV and a dict, and the 下级报送情况 sheet;
- `paicha.forms.ledgers`: the row-per-case ledgers and their input dataclasses;
- `paicha.forms.rectification`: the 重大事故隐患整改台账, one sheet per case;
- `paicha.forms.sheet`: the XLSX writing they share (sheets line by line, fonts, borders, A4),
  streamed into the file by `paicha.forms.xlsx`.

Every text cell written goes through `paicha.cells.neutral`: text a spreadsheet would run as
a formula is written as text.
"""
