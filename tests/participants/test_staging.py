"""The staging loader's own columns: place keys across chunks, public ids."""

import uuid

import polars as pl

from participants.imports.staging import PlaceKeys, random_uuids


def test_public_ids_are_distinct_random_version_4_uuids():
    ids = random_uuids(5000)
    parsed = [uuid.UUID(value) for value in ids]
    assert len(set(parsed)) == 5000
    assert {u.version for u in parsed} == {4}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert random_uuids(0) == []


def _places(*rows):
    columns = ("regency_code", "district_code", "district_name", "village_code", "village_name")
    return pl.DataFrame([dict(zip(columns, row, strict=True)) for row in rows])


def test_a_place_spelling_keeps_its_key_across_chunks():
    keys = PlaceKeys()
    first = keys.add_keys(_places(("73.22", "", "Masamba", "", "Baloli"), ("73.22", "", "Masamba", "", "Baloli")))
    second = keys.add_keys(
        _places(("73.22", "", "MASAMBA", "", "Baloli"), ("73.22", "", "Masamba", "", "Baloli"))
    )

    assert first["place_key"].to_list() == [0, 0]
    # Another spelling is another key (the apply matches spellings to places); the same one is the same.
    assert second["place_key"].to_list() == [1, 0]
    assert len(keys) == 2
