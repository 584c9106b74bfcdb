"""How to read a source: tag scheme, what to do with bad sentences, label mapping, re-splitting.

One value, `LoadOptions`, built once from the CLI flags, the TOML config or the Data screen,
so all three mean the same thing by ``--map PERSON=PER``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bnner_tui.core.data.problems import ON_ERROR
from bnner_tui.core.errors import BnnerError

DEFAULT_SEED = 13


def parse_split(text: str | None) -> tuple[int, int, int] | None:
    """'80/10/10' -> (80, 10, 10); '' or None -> None; BnnerError for anything else."""
    if text is None or not str(text).strip():
        return None
    parts = str(text).replace(",", "/").split("/")
    try:
        nums = tuple(int(p) for p in parts)
    except ValueError:
        nums = ()
    if len(nums) != 3 or any(n < 0 for n in nums) or sum(nums) != 100 or nums[0] == 0:
        raise BnnerError(
            f"split {text!r}: give three percentages for train/validation/test that add up to 100, e.g. 80/10/10"
        )
    return nums[0], nums[1], nums[2]


@dataclass(frozen=True)
class LoadOptions:
    """``scheme``: auto or a scheme name; ``on_error``: stop (default) or skip; ``label_map``: type -> type
    (``O`` drops); ``split``: re-split a single-file source into train/validation/test by percentages."""

    scheme: str = "auto"
    on_error: str = "stop"
    label_map: dict[str, str] = field(default_factory=dict)
    split: tuple[int, int, int] | None = None
    seed: int = DEFAULT_SEED

    @classmethod
    def make(
        cls,
        *,
        scheme: str = "auto",
        on_error: str = "stop",
        label_map: Iterable[str] | dict[str, str] | None = None,
        drop: Iterable[str] | None = None,
        split: str | tuple[int, int, int] | None = None,
        seed: int | None = None,
    ) -> LoadOptions:
        """Validated options from user spellings; each bad value is one sentence."""
        from bnner_tui.core.data.schemes import canonical_scheme
        from bnner_tui.core.labels import parse_label_map

        scheme = canonical_scheme(scheme or "auto")
        on_error = (on_error or "stop").strip().lower()
        if on_error not in ON_ERROR:
            raise BnnerError(f"--on-error {on_error!r}: use stop (the default) or skip")
        try:
            mapping = dict(label_map) if isinstance(label_map, dict) else parse_label_map(label_map or [])
        except ValueError as err:
            raise BnnerError(str(err)) from None
        for typ in drop or []:
            typ = str(typ).strip()
            if not typ:
                continue
            try:
                parse_label_map([f"{typ}=O"])
            except ValueError:
                raise BnnerError(f"--drop {typ!r}: give an entity type such as DATE") from None
            mapping[typ] = "O"
        parsed_split = split if isinstance(split, tuple) else parse_split(split)
        return cls(
            scheme=scheme,
            on_error=on_error,
            label_map=mapping,
            split=parsed_split,
            seed=DEFAULT_SEED if seed is None else int(seed),
        )

    @classmethod
    def from_config(cls, cfg: Any) -> LoadOptions:
        """The options a run's `TrainConfig` records (its ``seed`` shuffles a ``data_split``)."""
        return cls.make(
            on_error=getattr(cfg, "data_on_error", "stop"),
            label_map=getattr(cfg, "data_map", None),
            drop=getattr(cfg, "data_drop", None),
            split=getattr(cfg, "data_split", None),
            seed=getattr(cfg, "seed", None),
        )

    @property
    def dropped(self) -> list[str]:
        return sorted(k for k, v in self.label_map.items() if v == "O")

    def describe(self) -> str:
        """'map PERSON=PER, drop DATE, skip bad sentences' (empty when nothing is set), for titles and run files."""
        parts = []
        mapped = [f"{k}={v}" for k, v in self.label_map.items() if v != "O"]
        if mapped:
            parts.append("map " + ", ".join(mapped))
        if self.dropped:
            parts.append("drop " + ", ".join(self.dropped))
        if self.on_error == "skip":
            parts.append("skip bad sentences")
        if self.split:
            parts.append(f"split {'/'.join(map(str, self.split))} seed {self.seed}")
        return ", ".join(parts)
