"""The few Arrow compute kernels this project uses, called through pyarrow's kernel registry.

`pyarrow.compute` writes a Python wrapper and a docstring for each of its 280 kernels when it is
first imported, which costs about 50 ms, a tenth of a curator's `etl validate`; `pyarrow._compute`
holds the same kernels without that. Table methods such as `filter` and `take` import it too, so
they are called here instead."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyarrow._compute import MatchSubstringOptions, SetLookupOptions, SortOptions, call_function


def is_in(values: Any, value_set: Any, skip_nulls: bool = True) -> Any:
    return call_function("is_in", [values], SetLookupOptions(value_set, skip_nulls=skip_nulls))


def is_valid(values: Any) -> Any:
    return call_function("is_valid", [values])


def is_null(values: Any) -> Any:
    return call_function("is_null", [values])


def invert(mask: Any) -> Any:
    return call_function("invert", [mask])


def or_(left: Any, right: Any) -> Any:
    return call_function("or", [left, right])


def and_(left: Any, right: Any) -> Any:
    return call_function("and", [left, right])


def equal(left: Any, right: Any) -> Any:
    return call_function("equal", [left, right])


def starts_with(values: Any, prefix: str) -> Any:
    return call_function("starts_with", [values], MatchSubstringOptions(prefix))


def unique(values: Any) -> Any:
    return call_function("unique", [values])


def value_counts(values: Any) -> Any:
    return call_function("value_counts", [values])


def dictionary_encode(values: Any) -> Any:
    return call_function("dictionary_encode", [values])


def without_nulls(mask: Any) -> Any:
    """A mask whose nulls count as false."""
    return call_function("coalesce", [mask, pa.scalar(False)])


def indices(mask: Any) -> list[int]:
    """The positions where `mask` is true (null counts as false)."""
    return list(call_function("indices_nonzero", [without_nulls(mask)]).to_pylist())


def filter_rows(data: Any, mask: Any) -> Any:
    return call_function("filter", [data, mask])


def take(data: Any, positions: Any) -> Any:
    return call_function("take", [data, positions])


def sort_indices(table: Any, keys: list[str]) -> Any:
    return call_function("sort_indices", [table], SortOptions([(key, "ascending") for key in keys]))
