from __future__ import annotations

import pytest

from stonkmarket.application.audit_pages import decode_cursor, encode_cursor
from stonkmarket.application.errors import InvalidQueryError


def test_cursor_reads_back_its_position() -> None:
    assert decode_cursor(encode_cursor(42)) == 42


def test_cursor_past_64_bits_is_rejected() -> None:
    with pytest.raises(InvalidQueryError) as raised:
        decode_cursor(encode_cursor(2**63))

    assert raised.value.field == "cursor"
    assert raised.value.message == (
        "invalid cursor: it encodes position 9223372036854775808, past the last "
        "possible one; pass the next_cursor of the previous page unchanged"
    )


def test_cursor_at_the_largest_position_is_read() -> None:
    assert decode_cursor(encode_cursor(2**63 - 1)) == 2**63 - 1
