"""Receipt printing primitives: A5 PDF from HTML with Vietnamese text, and a QR code that scans.

Read back with Debian's poppler-utils (pdfinfo, pdftotext, pdftoppm) and zbar-tools (zbarimg),
which `./run test` installs. The rendered page is kept in screenshots/ for people to look at.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import segno

from portal.core.printing import qr_svg, render_pdf

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TRACKING_URL = "http://127.0.0.1:8000/track?code=HN-2026-000123&lang=vi"
# Every vowel with every tone mark, the đ and the ₫ sign.
VOWELS = "aáàảãạ ăắằẳẵặ âấầẩẫậ eéèẻẽẹ êếềểễệ iíìỉĩị oóòỏõọ ôốồổỗộ ơớờởỡợ uúùủũụ ưứừửữự yýỳỷỹỵ đ Đ 0 ₫"
OWNER_NFD = unicodedata.normalize("NFD", "Chủ hồ sơ: Nguyễn Thị Thủy, phường Hoàn Kiếm")


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: ./run test installs poppler-utils and zbar-tools"
    return found


def receipt_html() -> str:
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"></head><body>
    <h1>Giấy tiếp nhận hồ sơ và hẹn trả kết quả</h1>
    <p>{OWNER_NFD}</p>
    <p>{VOWELS}</p>
    <p>Ngày hẹn trả kết quả: 23/02/2026. Phí: 0 ₫. Hỗ trợ của đại lý là miễn phí.</p>
    {qr_svg(TRACKING_URL, size_mm=30, title="Tra cứu hồ sơ")}
    </body></html>"""


def test_the_receipt_is_one_a5_page_whose_vietnamese_text_comes_back_precomposed(tmp_path: Path) -> None:
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(render_pdf(receipt_html()))

    info = subprocess.run([tool("pdfinfo"), pdf], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    assert "Page size:       419.528 x 595.276 pts" in info  # A5: 148 × 210 mm

    extracted = subprocess.run([tool("pdftotext"), pdf, "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(extracted.split())  # lines wrap on A5
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in text
    # Typed decomposed, printed and extracted as the precomposed letters people search for.
    assert unicodedata.normalize("NFC", OWNER_NFD) in text
    assert OWNER_NFD not in text
    assert VOWELS in text

    fonts = subprocess.run([tool("pdffonts"), pdf], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans" in fonts and " yes yes yes " in fonts  # embedded, subset, with a Unicode map


def test_the_qr_code_on_the_printed_page_scans_to_the_tracking_link(tmp_path: Path) -> None:
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(render_pdf(receipt_html()))
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", pdf, tmp_path / "page"], check=True)
    page = tmp_path / "page.png"
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(page, SHOTS / "receipt-primitives-a5.png")

    scanned = subprocess.run([tool("zbarimg"), "-q", "--raw", page], capture_output=True, text=True)
    assert scanned.stdout.strip() == TRACKING_URL


def test_the_qr_svg_is_inline_markup_of_the_asked_size() -> None:
    svg = qr_svg(TRACKING_URL, size_mm=25, title="Tra cứu <hồ sơ>")
    assert svg.startswith('<svg width="25.0mm" height="25.0mm" viewBox="0 0 25.0 25.0"')
    assert "<?xml" not in svg
    assert "<title>Tra cứu &lt;hồ sơ&gt;</title>" in svg
    assert svg.__html__() == svg  # Jinja inserts it as markup, not as escaped text


def test_the_renderer_fetches_no_local_file_or_url(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    segno.make_qr("LEAKED-LOCAL-FILE").save(secret, scale=10)
    html = f'<p>Ảnh:</p><img src="file://{secret}" style="width:40mm"><img src="http://127.0.0.1:9/x.png">'
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(render_pdf(html))
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", pdf, tmp_path / "page"], check=True)
    scanned = subprocess.run([tool("zbarimg"), "-q", "--raw", tmp_path / "page.png"], capture_output=True, text=True)
    assert "LEAKED" not in scanned.stdout
    # The same image given inline as data: is drawn, so the check above can see an image when there is one.
    inline = segno.make_qr("INLINE-IMAGE").png_data_uri(scale=10)
    pdf.write_bytes(render_pdf(f'<img src="{inline}" style="width:40mm">'))
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", pdf, tmp_path / "page"], check=True)
    scanned = subprocess.run([tool("zbarimg"), "-q", "--raw", tmp_path / "page.png"], capture_output=True, text=True)
    assert scanned.stdout.strip() == "INLINE-IMAGE"
