"""What the counter accepts as a document file: pure checks of the bytes, no storage, no I/O.

The type is read from the content (magic bytes), never from the file name or the
browser's Content-Type: a file named `cccd.pdf` that holds PNG bytes IS a PNG, and it is
accepted only where the procedure's document slot accepts images. The declared name is
therefore not even an argument here.

Order in the service (cheapest and safest first, parsing only after the virus scan):
`check_size` → `detect_type` + `check_type_accepted` → scan (portal.core.scanner) →
`count_pages`. `inspect_file` runs the checks without the scan, for callers that scanned
already or for tests.
"""

from __future__ import annotations

import enum
import io
import re
import struct
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pypdf import PasswordType, PdfReader

from portal.core.errors import ValidationFailed
from portal.core.i18n import N_, Message

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # per file; clamd's StreamMaxLength is set above this
# An A4 page scanned at 600 dpi is 35 Mpx, a 50 Mpx phone photo fits; decoding 100 Mpx takes ~300 MB.
MAX_IMAGE_PIXELS = 100_000_000


class DocumentType(str, enum.Enum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.value]

    @property
    def label(self) -> str:
        return self.name


IMAGES = frozenset({DocumentType.JPEG, DocumentType.PNG})
ANY_DOCUMENT = frozenset(DocumentType)

# Magic numbers: PDF (ISO 32000 file header), JPEG (SOI + the first marker's FF), PNG (its 8-byte signature).
_SIGNATURES: tuple[tuple[bytes, DocumentType], ...] = (
    (b"%PDF-", DocumentType.PDF),
    (b"\xff\xd8\xff", DocumentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", DocumentType.PNG),
)


class DocumentRefused(ValidationFailed):
    """A file the counter does not take; `code` is the API's error word, the message says why."""

    code = "document_refused"
    # Which of the drafts API's four refusals it is (docs/partner-api.md); `code` says it finer.
    family = "unsupported_type"


class EmptyFile(DocumentRefused):
    code = "empty"

    def __init__(self) -> None:
        super().__init__(N_("Tệp rỗng"))


class FileTooLarge(DocumentRefused):
    code = "too_large"
    family = "too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(
            N_("Tệp quá lớn (%(size)s; tối đa %(limit)s)"), params={"size": _mb(size), "limit": _mb(limit)}
        )


class UnsupportedType(DocumentRefused):
    code = "unsupported_type"

    def __init__(self, detected: DocumentType | None, accepted: frozenset[DocumentType]) -> None:
        self.detected, self.accepted = detected, accepted
        wanted = ", ".join(t.label for t in sorted(accepted, key=lambda t: t.name))
        if detected is None:
            super().__init__(N_("Nội dung tệp không phải %(wanted)s, dù tên tệp nói gì"), params={"wanted": wanted})
        else:
            super().__init__(
                N_("Tệp là %(detected)s, giấy tờ này chỉ nhận %(wanted)s"),
                params={"detected": detected.label, "wanted": wanted},
            )


class MalformedFile(DocumentRefused):
    """Starts like a PDF/JPEG/PNG but cannot be read as one (truncated, corrupted, forged, password-locked)."""

    code = "malformed"

    def __init__(self, detected: DocumentType, reason: str) -> None:
        self.detected, self.reason = detected, reason
        super().__init__(
            N_("Tệp %(detected)s bị hỏng hoặc không đọc được (%(reason)s)"),
            params={"detected": detected.label, "reason": reason if isinstance(reason, Message) else Message(reason)},
        )


@dataclass(frozen=True)
class InspectedFile:
    type: DocumentType
    size: int
    pages: int


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_size(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    if not data:
        raise EmptyFile()
    if len(data) > max_bytes:
        raise FileTooLarge(len(data), max_bytes)


def detect_type(data: bytes) -> DocumentType | None:
    """The type the content says, or None for anything else."""
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    return None


def check_type_accepted(data: bytes, accepted: frozenset[DocumentType]) -> DocumentType:
    detected = detect_type(data)
    if detected is None or detected not in accepted:
        raise UnsupportedType(detected, accepted)
    return detected


def count_pages(data: bytes, kind: DocumentType) -> int:
    """Pages of a PDF (it must parse and open without a password); an image is one page (it must be whole)."""
    if kind is DocumentType.PDF:
        return _pdf_pages(data)
    _check_image(data, kind)
    return 1


def inspect_file(
    data: bytes, *, accepted: frozenset[DocumentType] = ANY_DOCUMENT, max_bytes: int = DEFAULT_MAX_BYTES
) -> InspectedFile:
    check_size(data, max_bytes)
    kind = check_type_accepted(data, accepted)
    return InspectedFile(type=kind, size=len(data), pages=count_pages(data, kind))


def _pdf_pages(data: bytes) -> int:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise MalformedFile(DocumentType.PDF, N_("có mật khẩu"))
        pages = len(reader.pages)
    except MalformedFile:
        raise
    except Exception as exc:  # a hostile PDF makes pypdf raise almost anything
        raise MalformedFile(DocumentType.PDF, type(exc).__name__) from exc
    if pages < 1:
        raise MalformedFile(DocumentType.PDF, N_("không có trang nào"))
    return pages


def _check_image(data: bytes, kind: DocumentType) -> None:
    # Our own structural reading, not Pillow's decoder: WeasyPrint sets Pillow's process-wide
    # LOAD_TRUNCATED_IMAGES, after which Pillow silently pads a truncated image.
    width, height = _png_size(data) if kind is DocumentType.PNG else _jpeg_size(data)
    if width < 1 or height < 1:
        raise MalformedFile(kind, N_("kích thước 0"))
    if width * height > MAX_IMAGE_PIXELS:
        raise MalformedFile(kind, Message("%(width)d×%(height)d: quá nhiều điểm ảnh", width=width, height=height))


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type


def _png_size(data: bytes) -> tuple[int, int]:
    """Every chunk present with a good CRC, IHDR first, IEND last, and the image data a complete zlib stream."""

    def bad(reason: str) -> MalformedFile:
        return MalformedFile(DocumentType.PNG, reason)

    pos, width, height, inflated, least, most = 8, 0, 0, 0, 0, 0
    pixels = zlib.decompressobj()
    while True:
        if pos + 12 > len(data):
            raise bad(N_("bị cắt cụt"))
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise bad(N_("bị cắt cụt"))
        body = data[pos + 8 : body_end]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", data, body_end)[0]:
            raise bad(Message("sai mã kiểm tra trong %(chunk)s", chunk=kind.decode("latin-1")))
        if pos == 8:
            if kind != b"IHDR" or length != 13:
                raise bad(N_("thiếu IHDR"))
            width, height, depth, colour = struct.unpack_from(">IIBB", body)
            if colour not in _PNG_CHANNELS:
                raise bad(N_("kiểu màu lạ"))
            if width * height > MAX_IMAGE_PIXELS:
                return width, height  # refused from the header alone, before anything is inflated
            bits = width * height * _PNG_CHANNELS[colour] * depth
            # What the image data must inflate to: its pixels at least, plus a filter byte per row
            # (interlacing adds a few more per pass) at most.
            least, most = bits // 8, 2 * (bits // 8 + height * 2) + 4096
        elif kind == b"IDAT":
            pending = body
            try:
                while pending:
                    inflated += len(pixels.decompress(pending, 1 << 20))
                    pending = pixels.unconsumed_tail
                    if inflated > most:
                        raise bad(N_("dữ liệu ảnh quá lớn"))
            except zlib.error:
                raise bad(N_("dữ liệu ảnh hỏng")) from None
        elif kind == b"IEND":
            break
        pos = body_end + 4
    if not pixels.eof or inflated < least:
        raise bad(N_("dữ liệu ảnh không trọn"))
    return width, height


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Marker segments intact from SOI to EOI, with a frame header and at least one scan."""

    def bad(reason: str) -> MalformedFile:
        return MalformedFile(DocumentType.JPEG, reason)

    truncated = N_("bị cắt cụt")
    pos, size, scanned = 2, None, False
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise bad(truncated if pos >= len(data) else N_("cấu trúc hỏng"))
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= len(data):
            raise bad(truncated)
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image
            if size is None or not scanned:
                raise bad(N_("không có ảnh"))
            return size
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # segments without a length
            continue
        if pos + 2 > len(data):
            raise bad(truncated)
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise bad(truncated)
        if marker in _JPEG_SOF and length >= 7:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            size = (width, height)
            if width * height > MAX_IMAGE_PIXELS:
                return size  # refused from the header alone
        pos += length
        if marker == 0xDA:  # start of scan: skip the entropy-coded data to the next marker
            scanned = True
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= len(data):
                    raise bad(truncated)
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break


class Infected(DocumentRefused):
    code = "infected"
    family = "infected"

    def __init__(self, signature: str) -> None:
        self.signature = signature
        super().__init__(
            N_("Tệp chứa mã độc (%(signature)s) nên không được nhận; hãy quét lại giấy tờ từ bản gốc"),
            params={"signature": signature},
        )


class Unscannable(DocumentRefused):
    code = "unscannable"
    family = "infected"  # not known clean is refused like infected: never stored unscanned

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(N_("Không quét virus được toàn bộ tệp (tệp nén lồng nhau hoặc quá phức tạp), nên không nhận"))


class UnknownSlot(DocumentRefused):
    code = "unknown_slot"
    family = "unknown_slot"

    def __init__(self, slot: str) -> None:
        self.slot = slot
        super().__init__(N_("Thủ tục này không có giấy tờ “%(slot)s”"), params={"slot": slot})


class UploadRefused(ValidationFailed):
    """A refused file as the drafts API answers it: `error` is one of infected, unsupported_type,
    too_large, unknown_slot (the contract's four words), `reason` the finer code (malformed, empty, …)."""

    def __init__(self, refused: DocumentRefused) -> None:
        super().__init__(refused.message)
        self.code = refused.family
        self.reason = refused.code
        self.recorded = refused.recorded

    def answer_extra(self) -> dict[str, Any]:
        return {"reason": self.reason}


@dataclass(frozen=True)
class DocumentSlot:
    """One required document of a procedure: where its pages go."""

    code: str  # the API's `slot`
    name: str
    mandatory: bool
    accepted: frozenset[DocumentType] = ANY_DOCUMENT
    # The proxy's written authorisation: mandatory exactly when someone files for the owner.
    authorisation: bool = False


def slot_code(name: str) -> str:
    """An ASCII code for a document's name: 'Giấy chứng sinh' → 'giay-chung-sinh'."""
    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:80]


#: Every filing may be made by a proxy, so every procedure has a slot for the authorisation: its own
#: ("Văn bản ủy quyền (nếu nộp thay)") when its documents name one, else this one, added after them.
AUTHORISATION_NAME = "Văn bản ủy quyền (nếu nộp thay)"
AUTHORISATION_SLOT = DocumentSlot(
    slot_code(AUTHORISATION_NAME), AUTHORISATION_NAME, mandatory=False, authorisation=True
)
_AUTHORISATION_PREFIXES = ("van-ban-uy-quyen", "giay-uy-quyen")


def document_slots(required_documents: Sequence[Mapping[str, Any] | str]) -> list[DocumentSlot]:
    """The slots of a procedure version's required documents, in the catalogue's order, and the proxy's
    authorisation (the procedure's own slot for it, or `AUTHORISATION_SLOT` last).

    Each document says whether it is mandatory; a bare name (older data) is mandatory unless it
    says when it applies ("… (nếu nộp thay)", "(nếu có)"). The authorisation is never mandatory
    by itself: the completeness check asks for it when a proxy is named.
    """
    slots = []
    for document in required_documents:
        if isinstance(document, str):
            name, mandatory = document, "(nếu" not in document.lower()
        else:
            name, mandatory = str(document["name"]), bool(document.get("mandatory", True))
        code = slot_code(name)
        if code.startswith(_AUTHORISATION_PREFIXES):
            slots.append(DocumentSlot(code, name, mandatory=False, authorisation=True))
        else:
            slots.append(DocumentSlot(code, name, mandatory=mandatory))
    if not any(slot.authorisation for slot in slots):
        slots.append(AUTHORISATION_SLOT)
    return slots


def authorisation_slot(slots: Sequence[DocumentSlot]) -> DocumentSlot:
    return next(slot for slot in slots if slot.authorisation)
