"""The upload rules (app/services/shared/uploads.py): names cleaned, types told by content, images
verified and re-encoded. Every file is made here, small."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from PIL import Image

from app.forms.definition import parse_file
from app.services.shared import uploads
from tests.support import JPEG, PNG, image_bytes

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112 + b"PE\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 120
OLE2 = uploads.OLE2 + b"\x00" * 504  # the header a .doc/.xls/.wps compound document starts with


def _docx() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


def _xlsx() -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: what a decompression bomb's header says."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def check(name: str, content: bytes, accept=None, **kw) -> uploads.CheckedFile:
    return uploads.check(io.BytesIO(content), name, accept, **kw)


def refused(name: str, content: bytes, accept=None, **kw) -> uploads.UploadRefused:
    with pytest.raises(uploads.UploadRefused) as caught:
        check(name, content, accept, **kw)
    return caught.value


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("现场照片.jpg", JPEG, "image/jpeg"),
        ("现场照片.JPEG", JPEG, "image/jpeg"),
        ("截图.png", PNG, "image/png"),
        ("实施方案.pdf", PDF, "application/pdf"),
        ("实施方案.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("台账.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("旧方案.doc", OLE2, "application/msword"),
        ("旧台账.xls", OLE2, "application/vnd.ms-excel"),
        ("方案.wps", OLE2, "application/vnd.ms-works"),
        ("说明.txt", "整改情况说明：已拆除。".encode("gb18030"), "text/plain"),
    ],
)
def test_real_files_are_accepted_with_the_type_their_content_shows(name, content, content_type):
    checked = check(name, content)
    assert (checked.filename, checked.content_type, checked.size) == (name, content_type, len(content))


@pytest.mark.parametrize(
    "name, content, found",
    [
        ("照片.jpg", EXE, "EXE"),
        ("照片.png", ELF, "ELF"),
        ("方案.pdf", EXE, "EXE"),
        ("方案.doc", EXE, "EXE"),
        ("方案.docx", ELF, "ELF"),
        ("说明.txt", EXE, "EXE"),
        ("照片.jpg", b"<html><script>alert(1)</script></html>", "无法识别的内容"),
        ("照片.jpg", PNG, "PNG"),
        ("台账.xlsx", _docx(), "DOCX"),
        ("方案.docx", b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
    ],
)
def test_content_that_is_not_what_the_extension_says_is_refused_naming_the_file(name, content, found):
    error = refused(name, content)
    assert error.status == 415
    assert f"文件「{name}」的扩展名是 .{name.rsplit('.', 1)[1]}，但内容不是" in error.message
    assert f"识别为：{found}" in error.message


def test_the_field_accept_list_decides_which_extensions_may_come():
    error = refused("setup.exe", EXE, ("pdf", "jpg"))
    assert error.status == 415 and "「setup.exe」的类型不允许上传，此处仅限：PDF、JPG、JPEG" in error.message
    assert "仅限：PDF" in refused("照片.png", PNG, ("pdf",)).message
    assert check("照片.jpeg", JPEG, ("jpg",)).content_type == "image/jpeg"  # jpg and jpeg alike
    assert "类型不允许上传" in refused("没有扩展名", PDF).message


def test_size_of_one_file_and_empty_files():
    error = refused("方案.pdf", PDF + b"\x00" * 2048, max_bytes=1024)
    assert error.status == 413 and "「方案.pdf」大小为 2 KB，超过了单个文件 1 KB 的上限" in error.message
    assert "是空文件" in refused("空.pdf", b"").message


@pytest.mark.parametrize("width, height", [(8000, 8000), (10_000, 10_000), (100_000, 100_000)])
def test_image_bombs_are_refused_before_decoding(width, height):
    # Under, at and far over Pillow's own bomb threshold: refused by the pixel limit all the same.
    error = refused("bomb.png", _png_header(width, height))
    assert error.status == 413 and "「bomb.png」" in error.message and "5000 万像素" in error.message


def test_pixel_limit_is_a_setting():
    big = image_bytes("PNG", (200, 100))
    assert check("a.png", big, max_pixels=20_000).size == len(big)
    error = refused("a.png", big, max_pixels=19_999)
    assert error.status == 413 and "200×100 像素" in error.message


def test_damaged_images_are_refused():
    noise = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(noise, "JPEG")
    truncated = noise.getvalue()[: len(noise.getvalue()) * 2 // 3]
    error = refused("半张.jpg", truncated)
    assert error.status == 415 and "「半张.jpg」已损坏或不完整" in error.message
    broken_png = bytearray(image_bytes("PNG", (32, 32)))
    broken_png[-20] ^= 0xFF  # a byte of the last chunk: its checksum no longer matches
    assert "已损坏" in refused("坏.png", bytes(broken_png)).message


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("方案.pdf", "方案.pdf"),
        ("C:\\Users\\张三\\Desktop\\整改方案.pdf", "整改方案.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a.jpg\x00.exe", "a.jpg.exe"),
        ("报告\r\nSet-Cookie: a=1.pdf", "报告Set-Cookie_ a=1.pdf"),
        (".htaccess.pdf", "htaccess.pdf"),
        ("...  隐藏.pdf", "隐藏.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("零\u200b宽.pdf", "零宽.pdf"),
        ("尾部. . .", "尾部"),
        ("a<b>c:d|e?f*.pdf", "a_b_c_d_e_f_.pdf"),
        ("多个   空格\t名.pdf", "多个 空格 名.pdf"),
        ("", "未命名文件"),
        ("\x00\x01/", "未命名文件"),
    ],
)
def test_names_are_cleaned_and_chinese_is_kept(raw, clean):
    assert uploads.clean_filename(raw) == clean


def test_long_names_keep_their_extension():
    cleaned = uploads.clean_filename("很" * 300 + ".docx")
    assert len(cleaned) == uploads.NAME_MAX and cleaned.endswith("很.docx")


def test_reencoding_strips_metadata_and_turns_the_photo_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to display
    exif[0x8825] = {2: (30.0, 15.0, 0.0), 4: (110.0, 20.0, 0.0)}  # GPS latitude and longitude
    photo = image_bytes("JPEG", (40, 20), exif=exif.tobytes())
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get(0x0112) == 6
    clean = uploads.reencode(io.BytesIO(photo + b"<script>alert(1)</script>"), "p.jpg", "JPEG", max_side=4096)
    with Image.open(io.BytesIO(clean)) as image:
        assert image.format == "JPEG" and image.size == (20, 40)
        assert not image.getexif() and "exif" not in image.info
    assert b"<script>" not in clean


def test_reencoding_bounds_the_size():
    clean = uploads.reencode(io.BytesIO(image_bytes("PNG", (300, 150))), "p.png", "PNG", max_side=100)
    with Image.open(io.BytesIO(clean)) as image:
        assert image.format == "PNG" and image.size == (100, 50)


def test_every_accept_list_in_the_forms_names_a_type_checked_by_content():
    for path in sorted((ROOT / "forms").glob("*.yaml")):
        for fdef in parse_file(path).file_fields:
            assert set(fdef.accept) <= set(uploads.KINDS), (path.name, fdef.name)
