"""The few Arrow compute kernels this project uses, called through pyarrow's kernel registry.

`pyarrow.compute` writes a Python wrapper and a docstring for each of its 280 kernels when it is
first imported, which costs about 50 ms, a tenth of a curator's `etl validate`; `pyarrow._compute`
holds the same kernels without that. Table methods such as `filter` and `take` import it too, so
they are called here instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from pyarrow._compute import MatchSubstringOptions, SetLookupOptions, SortOptions, call_function


def is_in(values: Any, value_set: Any, skip_nulls: bool = True) -> Any:
    return call_function("is_in", [values], SetLookupOptions(value_set, skip_nulls=skip_nulls))


def _kernel(name: str) -> Callable[..., Any]:
    """A kernel that takes its arguments as they are, with no options."""
    return lambda *arguments: call_function(name, list(arguments))


is_valid = _kernel("is_valid")
is_null = _kernel("is_null")
invert = _kernel("invert")
or_ = _kernel("or")
and_ = _kernel("and")
equal = _kernel("equal")
greater = _kernel("greater")
less = _kernel("less")
unique = _kernel("unique")
value_counts = _kernel("value_counts")
dictionary_encode = _kernel("dictionary_encode")
filter_rows = _kernel("filter")
take = _kernel("take")


def index_in(values: Any, value_set: Any) -> Any:
    """For each value, its position in `value_set` (null where it is not there)."""
    return call_function("index_in", [values], SetLookupOptions(value_set))


def starts_with(values: Any, prefix: str) -> Any:
    return call_function("starts_with", [values], MatchSubstringOptions(prefix))


def without_nulls(mask: Any) -> Any:
    """A mask whose nulls count as false."""
    return call_function("coalesce", [mask, pa.scalar(False)])


def indices(mask: Any) -> list[int]:
    """The positions where `mask` is true (null counts as false)."""
    return list(call_function("indices_nonzero", [without_nulls(mask)]).to_pylist())


def sort_indices(table: Any, keys: list[str]) -> Any:
    return call_function("sort_indices", [table], SortOptions([(key, "ascending") for key in keys]))
