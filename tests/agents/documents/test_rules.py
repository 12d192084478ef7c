"""What the counter accepts as a document file, decided by the bytes alone."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile
from pypdf import PdfWriter

from agents.documents.rules import (
    ANY_DOCUMENT,
    IMAGES,
    DocumentType,
    EmptyFile,
    FileTooLarge,
    InspectedFile,
    MalformedFile,
    UnsupportedType,
    detect_type,
    inspect_file,
)
from portal.i18n import translate

PDF_ONLY = frozenset({DocumentType.PDF})


def a_pdf(pages: int, *, user_password: str | None = None, owner_password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if user_password is not None or owner_password is not None:
        writer.encrypt(user_password or "", owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def an_image(fmt: str, size: tuple[int, int] = (320, 240), mode: str = "RGB", **options: object) -> bytes:
    image = Image.effect_noise(size, 60).convert(mode)  # noise: real entropy-coded data, many 0xFF bytes
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunks(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, type) of each chunk of a PNG."""
    pos, found = 8, []
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        found.append((pos, data[pos + 4 : pos + 8]))
        pos += 12 + length
    return found


def a_png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG header that claims a huge canvas (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_pdf_is_counted_page_by_page_and_an_image_is_one_page() -> None:
    pdf = a_pdf(3)
    assert inspect_file(pdf) == InspectedFile(type=DocumentType.PDF, size=len(pdf), pages=3)
    jpeg, png = an_image("JPEG"), an_image("PNG")
    assert inspect_file(jpeg) == InspectedFile(type=DocumentType.JPEG, size=len(jpeg), pages=1)
    assert inspect_file(png) == InspectedFile(type=DocumentType.PNG, size=len(png), pages=1)


def test_the_type_comes_from_the_content_so_a_png_named_pdf_is_a_png() -> None:
    png_named_cccd_pdf = an_image("PNG")
    assert detect_type(png_named_cccd_pdf) is DocumentType.PNG
    # The slot decides: an image slot takes it, as the PNG it is ...
    assert inspect_file(png_named_cccd_pdf, accepted=IMAGES).type is DocumentType.PNG
    # ... a PDF-only slot refuses it, saying what it really is.
    with pytest.raises(UnsupportedType) as refused:
        inspect_file(png_named_cccd_pdf, accepted=PDF_ONLY)
    assert refused.value.code == "unsupported_type"
    assert refused.value.detected is DocumentType.PNG
    assert refused.value.message == "Tệp là PNG, giấy tờ này chỉ nhận PDF"
    assert translate(refused.value.message, "en") == "The file is a PNG; this document takes only PDF"


def test_content_that_is_none_of_the_accepted_types_is_refused() -> None:
    for data in (b"Just a text file, saved as giay-khai-sinh.pdf", b"GIF89a\x01\x00\x01\x00", b"PK\x03\x04zip"):
        with pytest.raises(UnsupportedType) as refused:
            inspect_file(data, accepted=ANY_DOCUMENT)
        assert refused.value.detected is None


def test_a_pdf_that_is_not_a_pdf_is_refused_as_malformed() -> None:
    whole = a_pdf(2)
    for data in (b"%PDF-1.7\nnot really a PDF at all\n", whole[: len(whole) // 2], b"%PDF-"):
        with pytest.raises(MalformedFile) as refused:
            inspect_file(data)
        assert refused.value.code == "malformed"
        assert refused.value.detected is DocumentType.PDF


def test_a_pdf_locked_by_a_password_is_refused_but_one_only_restricted_by_its_owner_passes() -> None:
    with pytest.raises(MalformedFile, match="có mật khẩu"):
        inspect_file(a_pdf(1, user_password="bi-mat"))
    assert inspect_file(a_pdf(2, owner_password="chu-so-huu")).pages == 2


def test_images_as_cameras_and_scanners_write_them_pass() -> None:
    variants = [
        an_image("JPEG", mode="L"),
        an_image("JPEG", mode="CMYK"),
        an_image("JPEG", progressive=True, quality=90),
        an_image("JPEG", exif=Image.Exif().tobytes()),
        an_image("PNG", mode="P"),
        an_image("PNG", mode="RGBA"),
        an_image("PNG", mode="1"),
        an_image("PNG", mode="I;16"),
    ]
    for data in variants:
        assert inspect_file(data, accepted=IMAGES).pages == 1


def test_a_truncated_image_is_refused_even_where_pillow_is_told_to_pad_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # WeasyPrint, imported by the same process for receipts, sets this for the whole process.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for fmt, kind in (("JPEG", DocumentType.JPEG), ("PNG", DocumentType.PNG)):
        whole = an_image(fmt)
        for cut in (len(whole) // 2, len(whole) - 2):
            with pytest.raises(MalformedFile) as refused:
                inspect_file(whole[:cut])
            assert refused.value.detected is kind


def test_a_png_whose_bytes_were_altered_is_refused() -> None:
    whole = an_image("PNG")
    idat = next(offset for offset, kind in png_chunks(whole) if kind == b"IDAT")
    flipped = bytearray(whole)
    flipped[idat + 20] ^= 0x40
    with pytest.raises(MalformedFile, match="sai mã kiểm tra"):
        inspect_file(bytes(flipped))


def test_a_png_whose_chunks_check_out_but_whose_image_data_is_not_the_image_is_refused() -> None:
    header = a_png_claiming(100, 100)[:33]  # signature and IHDR: 100 × 100 RGB, 30,100 bytes of pixel rows

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    iend = chunk(b"IEND", b"")
    for idat in (
        b"not zlib at all",
        zlib.compress(b"\0" * 64),  # a whole stream, far too short for the image
        zlib.compress(b"\0" * 30_100)[:-6],  # a stream that stops
        zlib.compress(b"\0" * 10_000_000),  # a stream that inflates far past the image (a bomb)
    ):
        with pytest.raises(MalformedFile):
            inspect_file(header + chunk(b"IDAT", idat) + iend)
    assert inspect_file(header + chunk(b"IDAT", zlib.compress(b"\0" * 30_100)) + iend).pages == 1


def test_an_image_claiming_a_huge_canvas_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(MalformedFile, match=r"11000×11000: quá nhiều điểm ảnh"):  # past 100 Mpx
        inspect_file(a_png_claiming(11_000, 11_000))
    jpeg = bytearray(an_image("JPEG"))
    frame = jpeg.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    jpeg[frame + 5 : frame + 9] = struct.pack(">HH", 12_000, 12_000)
    with pytest.raises(MalformedFile, match="quá nhiều điểm ảnh"):
        inspect_file(bytes(jpeg))


def test_size_is_checked_on_the_bytes() -> None:
    with pytest.raises(EmptyFile):
        inspect_file(b"")
    pdf = a_pdf(1)
    assert inspect_file(pdf, max_bytes=len(pdf)).size == len(pdf)
    with pytest.raises(FileTooLarge) as refused:
        inspect_file(pdf, max_bytes=len(pdf) - 1)
    assert (refused.value.code, refused.value.size, refused.value.limit) == ("too_large", len(pdf), len(pdf) - 1)
    assert refused.value.status_code == 422
