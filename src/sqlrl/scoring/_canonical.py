"""Canonical cells in pure Python: the readable statement of what the core's two readers (Python rows
and Arrow) turn each value into. docs/scores.md lists the forms; the core writes the
same text byte for byte (``csrc/canonical.cpp``), and the tests check both against each other.

A value becomes NULL, an integer, a float, text or bytes:

- ``bool`` stays ``bool``; ints beyond int64 become the nearest float, or their digits beyond a double;
  a ``Decimal`` with exponent >= 0 is an int, any other a float;
- dates, times and timestamps become Python's ISO text (``2024-01-31``, ``12:30:00.250000``,
  ``2024-01-31 12:30:00``), microseconds kept and anything finer dropped toward zero; an aware
  timestamp becomes its UTC instant (``...+00:00``); an aware time keeps its offset; dates beyond
  years 1-9999 take DuckDB's text (``0044-03-15 (BC)``), as DuckDB's Python client returns them;
- durations and intervals become ``str(timedelta)`` (``423 days, 4:05:06.789000``), a month of an
  interval counting 30 days as DuckDB counts it;
- lists, tuples and arrays become ``[a, b]``; dicts, structs and maps become their list of
  ``[key, value]`` pairs (``[['k', 1]]``); inside them text is single-quoted with ``\\`` and ``'``
  escaped and bytes print as ``repr(bytes)``;
- anything else becomes ``str(value)``.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_US_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def canonical(value: Any) -> Any:
    """Map a Python cell to its canonical value (NULL, int, float, str or bytes).

    >>> canonical(True), canonical(2**70), canonical(decimal.Decimal("12"))
    (True, 1.1805916207174113e+21, 12)
    >>> canonical(decimal.Decimal("1.50")), canonical(datetime.date(2024, 1, 31))
    (1.5, '2024-01-31')
    >>> canonical(bytearray(b"ab")), canonical(datetime.timedelta(hours=1))
    (b'ab', '1:00:00')
    >>> canonical({"k": [1, "a"]}), canonical((1, 2))
    ("[['k', [1, 'a']]]", '[1, 2]')
    """
    if value is None:
        return None
    for plain in (bool, str, bytes):  # subclasses (e.g. numpy.str_) become the plain type
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, int):
        return _int(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return _datetime_text(value)
    if isinstance(value, datetime.date):
        return _date_text(value.toordinal() - _EPOCH_ORDINAL)
    if isinstance(value, datetime.time):
        return _time_text(value)
    if isinstance(value, datetime.timedelta):
        return _timedelta_text((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)
    if _is_month_day_nano(value):
        months, days, nanos = (int(x) for x in value)
        return _timedelta_text((months * 30 + days) * _US_PER_DAY + _trunc_div(nanos, 1000))
    if isinstance(value, (list, tuple, dict)):
        return _nested_text(value)
    if isinstance(value, decimal.Decimal):
        if value.is_finite() and value.as_tuple().exponent >= 0:
            return _int(int(value))  # scale <= 0, e.g. DuckDB's SUM(int) as DECIMAL(38, 0)
        return float(value)
    if hasattr(value, "__index__"):  # numpy integers and other int-likes
        return _int(value.__index__())
    return str(value)


def _int(value: int) -> int | float | str:
    if _INT64_MIN <= value <= _INT64_MAX:
        return value
    try:
        return float(value)
    except OverflowError:
        return str(value)  # beyond a double: its digits


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def _is_month_day_nano(value: Any) -> bool:
    """pyarrow's MonthDayNano (months, days, nanoseconds), what it returns for a month_day_nano interval."""
    return isinstance(value, tuple) and type(value).__name__ == "MonthDayNano" and len(value) == 3


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01; year 0 is 1 BC."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _date_text(days: int) -> str:
    y, m, d = _civil_from_days(days)
    if 1 <= y <= 9999:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return f"{1 - y:04d}-{m:02d}-{d:02d} (BC)" if y <= 0 else f"{y:04d}-{m:02d}-{d:02d}"  # DuckDB's text


def _clock(micros: int, trim: bool = False) -> str:
    secs, frac = divmod(micros, 1_000_000)
    text = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    if frac:
        text += f".{frac:06d}".rstrip("0") if trim else f".{frac:06d}"
    return text


def _timestamp_text(micros: int, utc: bool) -> str:
    days, rest = divmod(micros, _US_PER_DAY)
    y = _civil_from_days(days)[0]
    if 1 <= y <= 9999:
        return f"{_date_text(days)} {_clock(rest)}" + ("+00:00" if utc else "")
    return f"{_date_text(days)} {_clock(rest, trim=True)}" + ("+00" if utc else "")  # DuckDB's text


def _offset_micros(off: datetime.timedelta) -> int:
    return (off.days * 86_400 + off.seconds) * 1_000_000 + off.microseconds


def _datetime_text(value: datetime.datetime) -> str:
    days = value.toordinal() - _EPOCH_ORDINAL
    clock = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    micros = days * _US_PER_DAY + clock
    off = value.utcoffset() if value.tzinfo is not None else None
    if off is None:
        return _timestamp_text(micros, utc=False)
    return _timestamp_text(micros - _offset_micros(off), utc=True)  # an aware timestamp as its UTC instant


def _time_text(value: datetime.time) -> str:
    text = _clock(((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond)
    off = value.utcoffset() if value.tzinfo is not None else None
    if off is None:
        return text
    us = _offset_micros(off)
    sign, us = ("-", -us) if us < 0 else ("+", us)
    secs, frac = divmod(us, 1_000_000)
    text += f"{sign}{secs // 3600:02d}:{secs // 60 % 60:02d}"
    if secs % 60 or frac:
        text += f":{secs % 60:02d}" + (f".{frac:06d}" if frac else "")
    return text


def _timedelta_text(micros: int) -> str:
    """``str(datetime.timedelta(microseconds=micros))``, for any count."""
    days, rest = divmod(micros, _US_PER_DAY)
    secs, frac = divmod(rest, 1_000_000)
    text = f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    if days:
        text = f"{days} day{'' if abs(days) == 1 else 's'}, {text}"
    return text + (f".{frac:06d}" if frac else "")


def _nested_text(value: list | tuple | dict) -> str:
    if isinstance(value, dict):
        return "[" + ", ".join(f"[{_element(k)}, {_element(v)}]" for k, v in value.items()) + "]"
    return "[" + ", ".join(_element(x) for x in value) + "]"


def _element(x: Any) -> str:
    if isinstance(x, (list, tuple, dict)) and not _is_month_day_nano(x):
        return _nested_text(x)
    c = canonical(x)
    if isinstance(c, str):
        return "'" + c.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(c)  # None, True, 12, 1.5, nan, b'..'
