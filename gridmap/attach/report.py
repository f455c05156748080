"""Report lines for records that were repaired, cleared, skipped or left unattached.

Every problem found while validating or attaching a layer becomes one :class:`Issue`; an
:class:`AttachReport` collects them and writes them as CSV or JSON. Issues carry record ids and a
reason only, never personal values (names, ID numbers, phones): "invalid ID number check digit",
not the number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from gridmap.schema import Entity
from gridmap.spreadsheet import safe_frame

__all__ = ["Issue", "AttachReport", "REPORT_COLUMNS", "record_labels"]

REPORT_COLUMNS = ("entity", "record_id", "reason", "detail")


def record_labels(frame: pd.DataFrame, entity: Entity) -> pd.Series:
    """The id of each record, or ``"row N"`` (data row, 1-based) where the id is missing."""
    rows = pd.Series([f"row {int(i) + 1}" for i in frame.index], index=frame.index)
    if entity.id_column not in frame:
        return rows
    return frame[entity.id_column].astype(object).where(frame[entity.id_column].notna(), rows)


@dataclass(frozen=True)
class Issue:
    """One report line: which record of which entity, why, and what was done about it.

    Parameters
    ----------
    entity : str
        Entity name (``"building"``, ``"household"``, ``"person"`` ...).
    record_id : str
        The record's id, or ``"row N"`` (1-based data row) when it has none.
    reason : str
        Short fixed phrase usable for grouping, e.g. ``"unknown building"``.
    detail : str
        What was found and done, with ids only (never personal values).
    """

    entity: str
    record_id: str
    reason: str
    detail: str = ""


@dataclass
class AttachReport:
    """The list of issues of one import.

    Examples
    --------
    >>> report = AttachReport([Issue("household", "H1", "unknown building", "B9 not found")])
    >>> len(report), report.to_frame().columns.tolist()
    (1, ['entity', 'record_id', 'reason', 'detail'])
    """

    issues: list[Issue] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def extend(self, issues: Iterable[Issue]) -> None:
        """Append ``issues`` in order."""
        self.issues.extend(issues)

    def for_entity(self, entity: str) -> list[Issue]:
        """The issues of one entity."""
        return [i for i in self.issues if i.entity == entity]

    def reasons(self) -> dict[str, int]:
        """Count of issues per reason."""
        counts: dict[str, int] = {}
        for issue in self.issues:
            counts[issue.reason] = counts.get(issue.reason, 0) + 1
        return counts

    def to_frame(self) -> pd.DataFrame:
        """The issues as a DataFrame with columns ``entity, record_id, reason, detail``."""
        rows = [asdict(i) for i in self.issues]
        return pd.DataFrame(rows, columns=list(REPORT_COLUMNS), dtype=object)

    def to_csv(self, path: str | Path) -> Path:
        """Write the report as UTF-8 CSV with a BOM (Excel then shows Chinese); return the path."""
        path = Path(path)
        safe_frame(self.to_frame()).to_csv(path, index=False, encoding="utf-8-sig")
        return path

    def to_json(self, path: str | Path) -> Path:
        """Write the report as a JSON list of objects (UTF-8, Chinese kept readable)."""
        path = Path(path)
        rows = [asdict(i) for i in self.issues]
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        return path
