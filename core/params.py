"""Parameter tables as data: one table drives validation, the page's widgets and the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from core.errors import ParameterError


@dataclass(frozen=True)
class Param:
    """One tunable parameter.

    kind: "int" | "float" | "choice" | "bool" | "str"
    low/high: inclusive bounds for numbers (None = unbounded); ``low_open`` makes ``low`` exclusive.
    allow_inf: a "float" may be ±inf (within low/high); otherwise numbers must be finite. NaN never passes.
    An "int" given as a whole float (4.0, "4") is accepted as that int.
    """

    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: Sequence[Any] = ()
    help: str = ""
    low_open: bool = False
    log: bool = False  # widgets use a log-scale slider
    allow_inf: bool = False

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("int", "float"):
            lo = "(" if self.low_open else "["
            lo_v = "-inf" if self.low is None else self.low
            hi_v = "inf" if self.high is None else self.high
            return f"a{'n' if self.kind == 'int' else ''} {self.kind} in {lo}{lo_v}, {hi_v}]"
        return f"a {self.kind}"

    def validate(self, name: str, value: Any) -> Any:
        if self.kind == "choice":
            if value not in self.choices:
                raise ParameterError(name, value=value, expected=self.describe())
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, int)) or value not in (0, 1, True, False):
                raise ParameterError(name, value=value, expected=self.describe())
            return bool(value)
        if self.kind == "str":
            return str(value)
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise ParameterError(name, value=value, expected=self.describe()) from None
        if math.isnan(num) or (math.isinf(num) and not (self.allow_inf and self.kind == "float")):
            raise ParameterError(name, value=value, expected=f"a finite number: {self.describe()}",
                                 fix="Give a plain number such as 4 or 0.001.")
        if self.kind == "int":
            if num != int(num):
                raise ParameterError(name, value=value, expected=self.describe())
            num = int(num)
        if self.low is not None and (num < self.low or (self.low_open and num == self.low)):
            raise ParameterError(name, value=value, expected=self.describe())
        if self.high is not None and num > self.high:
            raise ParameterError(name, value=value, expected=self.describe())
        return num


ParamTable = Mapping[str, Param]


def validate_params(table: ParamTable, values: Mapping[str, Any], *, allow_unknown: bool = False) -> dict:
    """Fill defaults and validate ``values`` against ``table``; raises ParameterError naming the parameter."""
    out = {}
    for key in values:
        if key not in table and not allow_unknown:
            raise ParameterError(key, value=values[key], expected=f"one of the known parameters {list(table)}")
    for name, p in table.items():
        out[name] = p.validate(name, values.get(name, p.default))
    if allow_unknown:
        out.update({k: v for k, v in values.items() if k not in table})
    return out


def defaults(table: ParamTable) -> dict:
    return {name: p.default for name, p in table.items()}


@dataclass(frozen=True)
class Spec:
    """A registry entry with a label, a help text and a parameter table."""

    name: str
    label: str
    params: Mapping[str, Param] = field(default_factory=dict)
    help: str = ""
