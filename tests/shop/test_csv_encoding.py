"""A CSV that is not UTF-8 is refused whole, with the row and byte, and nothing is saved."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from shop.models import Category, Product

pytestmark = pytest.mark.django_db

HEADER = "sku,name,brand,price,category,image,description\n"


@pytest.fixture(autouse=True)
def shirts():
    Category.objects.create(name="Shirts", slug="shirts", slot="top")


def run_import(path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalog", str(path), no_progress=True, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_latin_1_file_names_the_row_and_byte_and_saves_nothing(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(
        (HEADER + "S-1,Plain tee,Ostra,10,shirts,,\nS-2,Crêpe blouse,Ostra,10,shirts,,\n").encode("latin-1")
    )
    with pytest.raises(CommandError, match=r"not UTF-8: byte 0xEA at byte \d+ \(row 3\)"):
        run_import(path)
    assert not Product.objects.exists()


def test_a_utf_16_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes((HEADER + "S-1,Plain tee,Ostra,10,shirts,,\n").encode("utf-16"))
    with pytest.raises(CommandError, match="UTF-16"):
        run_import(path)
    assert not Product.objects.exists()


def test_one_bad_byte_after_2000_good_rows_saves_none_of_them(tmp_path):
    rows = "".join(f"S-{n},Tee {n},Ostra,10,shirts,,\n" for n in range(2000))
    data = (HEADER + rows).encode() + b"S-BAD,Caf\xe9 shirt,Ostra,10,shirts,,\n"
    path = tmp_path / "catalog.csv"
    path.write_bytes(data)
    with pytest.raises(CommandError) as refused:
        run_import(path)
    message, bad_byte = str(refused.value), data.index(b"\xe9")
    assert "row 2002" in message and f"byte {bad_byte}" in message
    assert not Product.objects.exists()


def test_a_duplicate_sku_within_one_file_is_reported_as_a_bad_row(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + "S-1,First,Ostra,10,shirts,,\nS-2,Other,Ostra,10,shirts,,\nS-1,Second,Ostra,12,shirts,,\n")
    out, err = run_import(path)
    assert "2 created" in out and "1 skipped" in out
    assert "row 4: duplicate sku 'S-1' (first on row 2)" in err
    assert Product.objects.get(sku="S-1").name == "First"


def test_nul_bytes_in_cells_are_cleaned_not_a_database_error(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes((HEADER + "S-1,Tee\x00,Ostra,10,shirts,,Soft\x00 cotton\n").encode())
    out, _ = run_import(path)
    assert "1 created" in out
    assert Product.objects.get(sku="S-1").name == "Tee"
