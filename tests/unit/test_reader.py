"""The C cursor (csrc/reader.h), reached through gosym._native.read_value.

Expected values come from Python's int.from_bytes and a reference LEB128
encoder written here, not from gosym.
"""
import pytest
from hypothesis import given, strategies as st

from gosym import FormatError, _native
from tests.support.leb128 import sleb as sleb128, uleb as uvarint

SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}




def zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


@pytest.mark.parametrize("kind,size", sorted(SIZES.items()))
@pytest.mark.parametrize("order", ["little", "big"])
def test_fixed_reads_at_exact_end_and_one_past(kind, size, order):
    data = bytes(range(1, 17))
    off = len(data) - size                      # ends exactly at the end
    value, nxt = _native.read_value(data, kind, off, big_endian=order == "big")
    assert value == int.from_bytes(data[off:], order)
    assert nxt == len(data)
    with pytest.raises(FormatError) as ei:      # one byte past the end
        _native.read_value(data, kind, off + 1, big_endian=order == "big")
    assert ei.value.offset == off + 1
    assert "past end" in str(ei.value)


@pytest.mark.parametrize("ptr", [4, 8])
@pytest.mark.parametrize("order", ["little", "big"])
def test_pointer_reads(ptr, order):
    data = bytes(range(200, 216))
    v, nxt = _native.read_value(data, "ptr", 16 - ptr, big_endian=order == "big", ptr_size=ptr)
    assert v == int.from_bytes(data[16 - ptr:], order) and nxt == 16
    with pytest.raises(FormatError):
        _native.read_value(data, "ptr", 17 - ptr, big_endian=order == "big", ptr_size=ptr)


def test_read_in_empty_buffer_and_seek_past_end():
    with pytest.raises(FormatError):
        _native.read_value(b"", "u8", 0)
    with pytest.raises(FormatError) as ei:
        _native.read_value(b"abc", "u8", 4)     # seek beyond the end
    assert ei.value.offset == 4


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_uvarint_round_trip(v):
    enc = uvarint(v)
    got, nxt = _native.read_value(enc + b"\xff", "uvarint", 0)
    assert got == v and nxt == len(enc)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_svarint_round_trip(v):
    enc = uvarint(zigzag(v) & (2**64 - 1))
    got, _ = _native.read_value(enc, "svarint", 0)
    assert got == v


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_uvarint32_round_trip(v):
    enc = uvarint(v)
    got, nxt = _native.read_value(enc, "uvarint32", 0)
    assert got == v and nxt == len(enc)


def test_uvarint_truncated_at_end():
    enc = uvarint(2**40)
    with pytest.raises(FormatError) as ei:
        _native.read_value(enc[:-1], "uvarint", 0)
    assert ei.value.offset == len(enc) - 1


def test_overlong_varints():
    # 11 bytes: longer than any 64-bit value.
    with pytest.raises(FormatError, match="varint"):
        _native.read_value(b"\x80" * 10 + b"\x01", "uvarint", 0)
    # 10th byte above 1 overflows 64 bits.
    with pytest.raises(FormatError, match="overflows"):
        _native.read_value(b"\xff" * 9 + b"\x02", "uvarint", 0)
    # The largest 64-bit value is accepted.
    assert _native.read_value(b"\xff" * 9 + b"\x01", "uvarint", 0)[0] == 2**64 - 1
    # 32-bit: a 5th byte above 0x0f, or a 6th byte.
    with pytest.raises(FormatError, match="overflows 32"):
        _native.read_value(b"\xff\xff\xff\xff\x10", "uvarint32", 0)
    with pytest.raises(FormatError):
        _native.read_value(b"\x80\x80\x80\x80\x80\x00", "uvarint32", 0)
    assert _native.read_value(b"\xff\xff\xff\xff\x0f", "uvarint32", 0)[0] == 2**32 - 1


def test_cstr():
    assert _native.read_value(b"ab\0cd\0", "cstr", 3) == (b"cd", 6)
    assert _native.read_value(b"\0", "cstr", 0) == (b"", 1)
    with pytest.raises(FormatError, match="not terminated"):
        _native.read_value(b"abc", "cstr", 0)
    with pytest.raises(FormatError):
        _native.read_value(b"abc\0", "cstr", 4)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError):
        _native.read_value(b"abc", "u128", 0)
    with pytest.raises(ValueError):
        _native.read_value(b"abc", "ptr", 0, ptr_size=2)


def test_format_error_is_value_error_and_names_section():
    with pytest.raises(ValueError) as ei:
        _native.read_value(b"", "u32", 0)
    e = ei.value
    assert isinstance(e, FormatError) and e.section == "buffer" and e.offset == 0




@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_sleb128_round_trip(v):
    enc = sleb128(v)
    got, nxt = _native.read_value(enc + b"\x00", "sleb128", 0)
    assert got == v and nxt == len(enc)


def test_sleb128_limits():
    assert _native.read_value(b"\x7f", "sleb128", 0)[0] == -1
    assert _native.read_value(b"\x80\x7f", "sleb128", 0)[0] == -128
    with pytest.raises(FormatError, match="sleb128"):
        _native.read_value(b"\x80" * 10 + b"\x00", "sleb128", 0)
    with pytest.raises(FormatError):
        _native.read_value(b"\x80\x80", "sleb128", 0)
