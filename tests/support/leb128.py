"""LEB128 / Go varint encoders for the test-only writers and the reader tests,
written from the DWARF 5 spec §7.6 (independent of the C decoders)."""


def uleb(v: int) -> bytes:
    """uleb encodes an unsigned LEB128 (also Go's uvarint)."""
    assert v >= 0
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(v: int) -> bytes:
    """sleb encodes a signed LEB128."""
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if (v == 0 and not b & 0x40) or (v == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)
