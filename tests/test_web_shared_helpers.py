"""The small helpers the web pages and forms share (one home each): an upload read whole within its limit
(web/uploads.py), a variance's comment subject (web/subjects.py), the OpenAPI query of a model name
(web/api.py)."""

from __future__ import annotations

import asyncio
import io

import pytest
from fastapi import UploadFile

from opsfin.web.api import NAME, name_query
from opsfin.web.problems import Problem
from opsfin.web.subjects import _VARIANCE, variance_subject_id
from opsfin.web.uploads import read_upload

MIB = 1024 * 1024


def read(data: bytes, max_bytes: int, what: str = "a workbook (.xlsx)") -> bytes:
    return asyncio.run(read_upload(UploadFile(io.BytesIO(data), filename="f.xlsx"), max_bytes, what))


def test_an_upload_up_to_its_limit_is_read_whole():
    assert read(b"x" * (2 * MIB), 2 * MIB) == b"x" * (2 * MIB)
    assert read(b"abc", 3) == b"abc"


def test_an_upload_one_byte_over_its_limit_is_a_400_naming_the_limit_in_mb():
    with pytest.raises(Problem) as refused:
        read(b"x" * (2 * MIB + 1), 2 * MIB)
    assert (refused.value.status, refused.value.detail) == (400, "the file is larger than 2 MB")


def test_an_empty_upload_is_a_400_asking_for_the_kind_of_file():
    with pytest.raises(Problem) as refused:
        read(b"", 2 * MIB, "a file")
    assert (refused.value.status, refused.value.detail) == (400, "choose a file to upload")


@pytest.mark.parametrize(
    "args,expected",
    [
        (("2024-04", "labor_efficiency"), "variance:2024-04:labor_efficiency"),
        (
            ("2024-04", "material_price", "machine", "P1-ASSY-M01"),
            "variance:2024-04:material_price:machine=P1-ASSY-M01",
        ),
        (("2024-04", "material_price", "machine", None), "variance:2024-04:material_price"),  # no member: the category
        (("2024-04", "material_price", None, "P1-ASSY-M01"), "variance:2024-04:material_price"),
    ],
)
def test_a_variance_subject_id_is_the_month_the_category_and_a_drilled_member(args, expected):
    subject_id = variance_subject_id(*args)
    assert subject_id == expected
    parsed = _VARIANCE.match(subject_id)  # the form subjects.resolve reads back
    assert parsed is not None and parsed.group(1, 2) == args[:2]


def test_a_name_query_documents_its_pattern_its_length_and_its_meaning():
    query = name_query("only this site's rows")
    assert query.json_schema_extra == {"pattern": NAME, "maxLength": 100}
    assert query.description == "only this site's rows"
    assert name_query("a version", r"^x?$").json_schema_extra == {"pattern": r"^x?$", "maxLength": 100}
