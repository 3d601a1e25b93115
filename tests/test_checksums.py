"""A script's checksum is sha256 of its normalized bytes, whichever sha256 computed it (small or big file)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sqlrun import scripts


@pytest.mark.parametrize("size", [10, scripts.SMALL_HASH - 1, scripts.SMALL_HASH, 3 * scripts.CHUNK + 7])
def test_the_checksum_is_the_same_on_both_sides_of_the_small_file_limit(tmp_path: Path, size: int) -> None:
    body = (b"SELECT 1;\r\n" * (size // 11 + 1))[:size]
    path = tmp_path / "001_x.sql"
    path.write_bytes(b"\xef\xbb\xbf" + body)
    expected = hashlib.sha256(body.replace(b"\r\n", b"\n")).hexdigest()
    assert scripts.fingerprint(path).checksum == expected
    assert scripts.sha256(size).name == "sha256"


def test_a_repeatable_scripts_key_does_not_depend_on_the_sha256_used() -> None:
    assert scripts.repeatable_key("views") == int.from_bytes(hashlib.sha256(b"views").digest()[:7], "big")
