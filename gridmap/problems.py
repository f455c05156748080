"""Problems of a plan: what a community worker should know, in plain words (English and Chinese)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """Something a community worker should know about a plan.

    Attributes
    ----------
    kind : str
        ``under_min``, ``over_max``, ``infeasible``, ``unbalanced``, ``street_crossed``,
        ``compound_split``, ``no_buildings`` or ``outside``.
    message : str
        Plain-words explanation and what would fix it (English).
    community_code, grid_code : str or None
    building_ids : tuple of str
    message_zh : str
        The same explanation in Chinese, for community workers (empty if none was written).
    """

    kind: str
    message: str
    community_code: str | None = None
    grid_code: str | None = None
    building_ids: tuple[str, ...] = ()
    message_zh: str = ""

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``); English when no Chinese exists."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message
