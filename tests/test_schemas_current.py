"""The generated code checked into schemas/ is what `python -m schemas.build` makes now."""

from __future__ import annotations

from schemas.build import stale_files


def test_generated_schema_modules_match_their_sources() -> None:
    # Covers the protobuf/gRPC modules and the compiled E2SM-KPM ASN.1 module alike.
    assert stale_files() == [], "run: .venv/bin/python -m schemas.build"
