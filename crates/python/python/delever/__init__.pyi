"""Type stubs of the delever package (docs/python.md)."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, overload

from typing import Literal

from pandas import DataFrame as _DataFrame  # only when pandas is installed

#: A DataFrame when pandas is installed, else a list of dicts (one per row).
Table = Union["_DataFrame", List[Dict[str, Any]]]
PathLike = Union[str, "os.PathLike[str]"]
Mode = Literal["equilibrium", "sequential", "timeline"]

__version__: str
DEFAULT_SCENARIO: str

class DeleverError(RuntimeError):
    """Base class of delever's errors that are not about the scenario's text."""

class ScenarioError(ValueError):
    """A scenario, or an override of one, is invalid. The attributes locate the first
    problem; ``diagnostics`` lists them all (dicts with the same keys and ``text``)."""

    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    path: Optional[str]
    message: Optional[str]
    hint: Optional[str]
    diagnostics: List[Dict[str, Any]]

class NotConvergedWarning(UserWarning):
    """A run stopped at its round limit (the CLI's exit code 3)."""

def shipped() -> List[str]:
    """The names of the shipped scenarios, sorted."""

def scenario(name: str = ...) -> Scenario:
    """A shipped scenario by name (default: the CLI's default scenario)."""

def load(source: PathLike, *, base_dir: Optional[PathLike] = ...) -> Scenario:
    """Load a scenario from a path, a shipped name, or YAML text."""

def pandas_available() -> bool:
    """Whether tables come back as pandas DataFrames."""

class Scenario:
    """A loaded, validated scenario."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def as_of(self) -> str: ...
    @property
    def variants(self) -> List[str]: ...
    @property
    def assets(self) -> List[str]: ...
    @property
    def path(self) -> Optional[str]: ...
    @property
    def books_from(self) -> Dict[str, Literal["arrow", "csv"]]:
        """How each book given by ``with_book`` came in, by holder id."""
    def run(
        self,
        max_rounds: Optional[int] = ...,
        mode: Optional[Mode] = ...,
        variant: Optional[str] = ...,
        set: Optional[Mapping[str, Union[float, int, str, bool]]] = ...,
    ) -> Report:
        """Run the cascade (``delever run``)."""
    def sweep(
        self,
        vary: Mapping[str, Union[str, Sequence[Union[float, int, str, bool]]]],
        max_rounds: Optional[int] = ...,
    ) -> Table:
        """Every combination of ``vary`` (``delever sweep``), one row per variant."""
    @overload
    def mc(
        self,
        draws: int,
        seed: int = ...,
        max_rounds: Optional[int] = ...,
        summary: Literal[False] = ...,
    ) -> Table: ...
    @overload
    def mc(
        self,
        draws: int,
        seed: int = ...,
        max_rounds: Optional[int] = ...,
        *,
        summary: Literal[True],
    ) -> Tuple[Table, Table]: ...
    def with_holders(self, positions: Any) -> Scenario:
        """A copy whose named holders hold ``positions`` (holder, asset, shares|usd)."""
    def with_book(
        self,
        accounts: Any,
        holdings: Any,
        holder: str = ...,
        lender: Optional[str] = ...,
        maintenance: Optional[float] = ...,
        reset: Optional[float] = ...,
    ) -> Scenario:
        """A copy with an account book fed from frames (account,cash,loan and
        account,asset,shares): read in place through the Arrow C stream interface when
        both tables offer one (pandas with pyarrow, pyarrow Tables, polars), else
        through a private CSV file; ``books_from[holder]`` tells which."""

class Report:
    """The report of one run."""

    def to_json(self) -> str:
        """``delever run --format json``, byte for byte."""
    def to_csv(self) -> str: ...
    def to_table(self) -> str: ...
    def to_html(self) -> str: ...
    def _repr_html_(self) -> str: ...
    @property
    def json(self) -> Dict[str, Any]: ...
    @property
    def scenario(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def termination(self) -> str: ...
    @property
    def rounds(self) -> int: ...
    @property
    def converged(self) -> bool: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def totals(self) -> Dict[str, Any]: ...
    @property
    def assets(self) -> Table: ...
    @property
    def holders(self) -> Table: ...
    @property
    def lenders(self) -> Table: ...
    @property
    def trace(self) -> Table: ...
    @property
    def days(self) -> Table: ...
