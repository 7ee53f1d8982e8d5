"""Uploaded files as untrusted input: the rules task evidence and the tip box's photos share.

- The name is cleaned first (`clean_filename`): the last path component only; NUL, control and
  format characters (CR/LF, bidi overrides, zero-width), line separators and Windows' reserved
  characters removed; leading dots and trailing dots and spaces stripped; Chinese kept; at most
  `NAME_MAX` characters, the extension kept. Every message names the file by its cleaned name.
- The type: the extension must be one the field accepts, and the content must be of that type,
  told by its first bytes with the `filetype` library and, for containers, by their structure:
  an OOXML file is a ZIP holding word/document.xml (docx) or xl/workbook.xml (xlsx), an OFD
  file a ZIP holding OFD.xml, a legacy Word/Excel/WPS file an OLE2 compound document (which
  cannot reliably tell Word from Excel, so .doc, .xls and .wps share that test), a .txt file
  text in UTF-8 or GB 18030 without NUL bytes. A renamed executable is refused, naming what
  the content really is.
- Images (jpg, png) are opened by Pillow restricted to the claimed format; one larger than
  UPLOAD_MAX_IMAGE_PIXELS is refused before it is decoded (a decompression bomb), and the
  rest must verify (PNG's chunk checksums; a JPEG is decoded at 1/8 scale, which reads all
  of its data for little memory). `reencode` makes a clean copy (EXIF orientation applied,
  metadata such as GPS dropped, nothing appended survives) for photos shown in a browser.

Refusals are `UploadRefused` with a Chinese message (translated for the request) and a status:
413 for too large, 415 for a type that is not allowed or content that is not what it claims.
"""

import codecs
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from typing import IO

import filetype  # type: ignore[import-untyped]  # filetype 1.2 ships no type hints (no py.typed, no stubs)
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

TOO_LARGE = 413
WRONG_TYPE = 415
NAME_MAX = 200
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
HEAD_BYTES = 8192
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
# Format characters hide or reorder text (U+202E shows "a\u202egpj.exe" as "aexe.jpg").
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def N_(msgid: str) -> str:
    """Mark a msgid for extraction; translated where it is shown."""
    return msgid


@dataclass(frozen=True)
class Kind:
    label: str  # msgid, e.g. "PDF 文档"
    content_type: str
    image_format: str | None = None  # Pillow's name for the image kinds


KINDS: dict[str, Kind] = {
    "pdf": Kind(N_("PDF 文档"), "application/pdf"),
    "doc": Kind(N_("Word 文档"), "application/msword"),
    "docx": Kind(N_("Word 文档"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "wps": Kind(N_("WPS 文档"), "application/vnd.ms-works"),
    "xls": Kind(N_("Excel 表格"), "application/vnd.ms-excel"),
    "xlsx": Kind(N_("Excel 表格"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "jpg": Kind(N_("JPG 图片"), "image/jpeg", "JPEG"),
    "jpeg": Kind(N_("JPG 图片"), "image/jpeg", "JPEG"),
    "png": Kind(N_("PNG 图片"), "image/png", "PNG"),
    "ofd": Kind(N_("OFD 版式文件"), "application/ofd"),
    "txt": Kind(N_("文本文件"), "text/plain"),
}
# A field that accepts one of these accepts the other too.
ALIASES = {"jpg": "jpeg", "jpeg": "jpg"}
_ZIP_MEMBERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "ofd": "OFD.xml"}


class UploadRefused(ValueError):
    def __init__(self, message: str, status: int = WRONG_TYPE):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CheckedFile:
    filename: str  # cleaned
    extension: str
    content_type: str
    size: int


def clean_filename(name: str | None) -> str:
    """A file name safe to store, show and offer for download (see the module's rules)."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if ch in "\t " or unicodedata.category(ch) not in _DROP_CATEGORIES)
    text = _WINDOWS_RESERVED.sub("_", text)
    text = _SPACES.sub(" ", text).lstrip(". ").rstrip(". ")
    if len(text) > NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            text = stem[: NAME_MAX - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            text = text[:NAME_MAX].rstrip(". ")
    return text or _("未命名文件")


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def size_of(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def megabytes(size: int) -> str:
    """A size for people: "20 MB", "1.5 MB", "300 KB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


def allowed_extensions(accept: tuple[str, ...] | list[str] | None) -> list[str]:
    """The extensions a field takes: its accept list (jpg and jpeg alike), else every known kind."""
    if not accept:
        return list(KINDS)
    out: list[str] = []
    for ext in accept:
        for name in (ext, ALIASES.get(ext)):
            if name in KINDS and name not in out:
                out.append(name)
    return out


def check(
    stream: IO[bytes],
    name: str | None,
    accept: tuple[str, ...] | list[str] | None = None,
    *,
    max_bytes: int | None = None,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> CheckedFile:
    """The cleaned name, type and size of one upload, or UploadRefused saying why not."""
    filename = clean_filename(name)
    allowed = allowed_extensions(accept)
    ext = extension_of(filename)
    if ext not in allowed:
        shown = "、".join(dict.fromkeys(e.upper() for e in allowed))
        raise UploadRefused(_("文件「%(name)s」的类型不允许上传，此处仅限：%(allowed)s", name=filename, allowed=shown))
    size = size_of(stream)
    if size == 0:
        raise UploadRefused(_("文件「%(name)s」是空文件", name=filename))
    if max_bytes is not None and size > max_bytes:
        raise UploadRefused(
            _(
                "文件「%(name)s」大小为 %(size)s，超过了单个文件 %(limit)s 的上限",
                name=filename,
                size=megabytes(size),
                limit=megabytes(max_bytes),
            ),
            TOO_LARGE,
        )
    kind = KINDS[ext]
    matches, found = _content_matches(ext, stream)
    stream.seek(0)
    if not matches:
        raise UploadRefused(
            _(
                "文件「%(name)s」的扩展名是 .%(ext)s，但内容不是%(kind)s（识别为：%(found)s），已拒绝。"
                "请上传真实的文件，不要修改扩展名",
                name=filename,
                ext=ext,
                kind=_(kind.label),
                found=found or _("无法识别的内容"),
            )
        )
    if kind.image_format:
        verify_image(stream, filename, kind.image_format, max_pixels)
        stream.seek(0)
    return CheckedFile(filename, ext, kind.content_type, size)


def _content_matches(ext: str, stream: IO[bytes]) -> tuple[bool, str | None]:
    """Whether the content is of kind `ext`, and what it looks like (for the message)."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    guess = filetype.guess(head)
    found = guess.extension.upper() if guess is not None else None
    if head.startswith(OLE2):
        found = found or "Office 97-2003 / WPS"
    if ext in ("doc", "xls", "wps"):
        return head.startswith(OLE2), found
    if ext in _ZIP_MEMBERS:
        return head.startswith(ZIP) and _zip_has(stream, _ZIP_MEMBERS[ext]), found
    if ext == "txt":
        return guess is None and _is_text(head), found
    mime = KINDS[ext].content_type
    return guess is not None and guess.mime == mime, found


def _zip_has(stream: IO[bytes], member: str) -> bool:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            # The head may end inside a character: decode it as an unfinished stream.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _open_image(stream: IO[bytes], filename: str, image_format: str, max_pixels: int) -> Image.Image:
    """Open (headers only) restricted to the claimed format; refuse a decompression bomb here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=[image_format])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _bomb(filename, None, max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(filename) from None
    width, height = image.size
    if width * height > max_pixels:
        # Not image.close(): that would close the caller's stream too.
        raise _bomb(filename, (width, height), max_pixels)
    return image


def _bomb(filename: str, size: tuple[int, int] | None, max_pixels: int) -> UploadRefused:
    limit = f"{max_pixels / 10_000:g}"
    if size is None:
        return UploadRefused(
            _("图片「%(name)s」的像素数过大，上限为 %(limit)s 万像素，请压缩后再上传", name=filename, limit=limit),
            TOO_LARGE,
        )
    return UploadRefused(
        _(
            "图片「%(name)s」为 %(width)d×%(height)d 像素，超过了 %(limit)s 万像素的上限，请压缩后再上传",
            name=filename,
            width=size[0],
            height=size[1],
            limit=limit,
        ),
        TOO_LARGE,
    )


def _damaged(filename: str) -> UploadRefused:
    return UploadRefused(_("图片「%(name)s」已损坏或不完整，无法打开，请重新导出后上传", name=filename))


def verify_image(
    stream: IO[bytes], filename: str, image_format: str, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> None:
    """The image opens as `image_format`, is within the pixel limit, and its data is intact."""
    try:
        with _open_image(stream, filename, image_format, max_pixels) as image:
            image.verify()
        stream.seek(0)
        with _open_image(stream, filename, image_format, max_pixels) as image:
            if image_format == "JPEG":
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except UploadRefused:
        raise
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many kinds for a hostile file
        raise _damaged(filename) from None
    finally:
        stream.seek(0)


def reencode(
    stream: IO[bytes], filename: str, image_format: str, *, max_side: int, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> bytes:
    """A clean copy of a verified image: upright, at most max_side pixels a side, no metadata."""
    try:
        with _open_image(stream, filename, image_format, max_pixels) as image:
            if image_format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # decode big photos at a reduced scale
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if image_format == "JPEG":
                upright.convert("RGB").save(out, "JPEG", quality=90)
            else:
                if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                    upright = upright.convert("RGBA")
                upright.save(out, "PNG")
            return out.getvalue()
    except UploadRefused:
        raise
    except Exception:  # noqa: BLE001 - as in verify_image
        raise _damaged(filename) from None
    finally:
        stream.seek(0)
