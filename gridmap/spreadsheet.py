"""Spreadsheet-safe cells: neutralise text that Excel or LibreOffice would run as a formula.

A CSV or XLSX cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
evaluated as a formula when the file is opened, so an imported building named
``=HYPERLINK("http://…?d="&A2,"Open")`` would send the neighbouring cells to a stranger. Every CSV
and XLSX that gridmap writes passes its cells through :func:`safe_cell` (or :func:`safe_frame`),
which prefixes such text with a single quote, the OWASP rule
(https://owasp.org/www-community/attacks/CSV_Injection). Numbers are left alone: ``-5`` as a
number is not a formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_frame", "safe_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet cell a formula (or hide one)."""


def safe_cell(value: Any) -> Any:
    """``value``, with a ``'`` in front when it is text starting like a formula.

    Examples
    --------
    >>> safe_cell('=HYPERLINK("http://x","Open")'), safe_cell("-1号楼"), safe_cell("1号楼")
    ('\\'=HYPERLINK("http://x","Open")', "'-1号楼", '1号楼')
    >>> safe_cell(-5), safe_cell(None)
    (-5, None)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` (a ``csv.DictWriter`` row) with every value through :func:`safe_cell`."""
    return {key: safe_cell(value) for key, value in row.items()}


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) went through :func:`safe_cell`.

    Examples
    --------
    >>> safe_frame(pd.DataFrame({"name": ["@SUM(A1)", "楼"], "floors": [-1, 6]})).to_dict("list")
    {'name': ["'@SUM(A1)", '楼'], 'floors': [-1, 6]}
    >>> mixed = pd.DataFrame({"note": pd.Series(["+86", -5, None, "=1+1"], dtype=object)})
    >>> safe_frame(mixed)["note"].tolist()
    ["'+86", -5, None, "'=1+1"]
    """
    out = frame.copy()
    for column in out.columns[[pd.api.types.is_string_dtype(t) for t in out.dtypes]]:
        values = out[column]
        formula = _formula_cells(values)
        if formula.any():
            cells = values.to_numpy(dtype=object, copy=True)
            cells[formula] = ["'" + v for v in cells[formula]]
            out[column] = pd.Series(cells, index=values.index, dtype=values.dtype)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def _formula_cells(values: pd.Series) -> np.ndarray:
    """Which cells of a text column are text starting like a formula (:func:`safe_cell`); an
    object column may hold numbers and other values too, which never are."""
    if values.dtype == object:
        cells = values.to_numpy()
        return np.fromiter(
            (isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in cells), bool, len(cells)
        )
    return values.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
