"""Every line of a dossier's history reads in the reader's language, for staff and for citizens.

Real histories: a dossier forwarded after the city system was down, then moved on by
the city (its simulator, over HTTP), and a dossier the city refused.
"""

import html
import re
import uuid

import pytest

from agents.api_clients.models import ApiClient
from agents.api_clients.service import actor_for_client
from agents.city.client import CityClient
from agents.dossiers import filing
from agents.dossiers import tasks as forwarding
from agents.staff.models import Account
from portal.core.db import unit_of_work
from portal.history import _PART, MESSAGES, recorded
from portal.i18n import catalogue
from tests.factories import (
    citizen,
    create_counter,
    file_birth_registration,
    publish_procedure,
    reload_dossier,
    worker_scope,
)

TIME = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
# Words of the old English machine labels and error texts, which a Vietnamese page must not show.
ENGLISH = re.compile(r"\b(worker|city|system|answered|client|refused|unreachable|field|error|for)\b", re.I)
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def _rows(page: str, testid: str = "history") -> list[list[str]]:
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _fact(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</dd>', page, re.S)
    assert found, testid
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _without_quotes(text: str) -> str:
    return re.sub(r"“[^”]*”", "", text)


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Bờ Hồ (lịch sử)")


@pytest.fixture
def city(city_simulator):
    city_simulator.reset_knobs()
    client = CityClient()
    yield client
    client.close()
    city_simulator.reset_knobs()


def _pages(portal, staff, dossier):
    """The staff's detail page and the citizen's tracking page, in Vietnamese and in English."""
    seen = {}
    for language in ("vi", "en"):
        clerk, citizen_ = portal(), portal()
        clerk.sign_in(staff.email)
        for client in (clerk, citizen_):
            client.get(f"/lang/{language}")
        seen[language, "staff"] = clerk.get(f"/dossiers/{dossier.id}").text
        seen[language, "citizen"] = citizen_.post_form(
            "/track", {"code": dossier.tracking_code, "phone": citizen()["owner_phone"]}
        ).text
    return seen


def test_a_forwarded_dossiers_history_reads_in_each_language(portal, counter, city, city_simulator):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    city_simulator.configure(down=True)
    assert forwarding.forward_dossier(dossier.id, worker_scope(partner), city).kind == "retry"

    waiting = _pages(portal, staff, dossier)
    assert _fact(waiting["vi", "staff"], "last-error") == (
        "Hệ thống một cửa tạm thời không xử lý được yêu cầu (mã lỗi 503) Cổng sẽ tự động gửi lại."
    )
    assert _fact(waiting["en", "staff"], "last-error") == (
        "The city system could not handle the request for now (error 503) The portal will send it again automatically."
    )

    city_simulator.configure(down=False)
    assert forwarding.forward_dossier(dossier.id, worker_scope(partner), city).kind == "forwarded"
    code = reload_dossier(dossier.id).city_dossier_code
    city_simulator.advance(code)
    # Statuses 1 and 2 arrive by this poll (or, when a callback beat it, are already there).
    forwarding.sync_status_from_city(dossier.id, worker_scope(partner), city)
    assert [e.city_status for e in reload_dossier(dossier.id).timeline if e.source == "city"] == [1, 2]
    city_notes = [e.note for e in reload_dossier(dossier.id).timeline if e.source == "city"]
    assert len(city_notes) == 2 and all(city_notes)

    seen = _pages(portal, staff, dossier)
    assert _rows(seen["vi", "staff"]) == [
        [_rows(seen["vi", "staff"])[0][0], "Đang chờ gửi hệ thống một cửa", staff.label, f"Tiếp nhận tại {point.name}"],
        [
            _rows(seen["vi", "staff"])[1][0],
            "Đã gửi hệ thống một cửa",
            "Cổng đại lý (tự động gửi hồ sơ)",
            f"Hệ thống một cửa đã nhận hồ sơ, mã hồ sơ {code}",
        ],
        [_rows(seen["vi", "staff"])[2][0], "1 · Mới đăng ký", "Hệ thống một cửa", city_notes[0]],
        [_rows(seen["vi", "staff"])[3][0], "2 · Được tiếp nhận", "Hệ thống một cửa", city_notes[1]],
    ]
    english = _rows(seen["en", "staff"])
    assert [row[1:] for row in english] == [
        ["Queued for the city system", staff.label, f"Received at {point.name}"],
        [
            "Sent to the city system",
            "Agent portal (automatic forwarding)",
            f"The city system accepted the dossier, city dossier code {code}",
        ],
        ["1 · Newly submitted", "City one-stop system", f"The city system's note (in Vietnamese): {city_notes[0]}"],
        ["2 · Received", "City one-stop system", f"The city system's note (in Vietnamese): {city_notes[1]}"],
    ]
    assert seen["en", "staff"].count('<q lang="vi">') == 2  # the city's own words, marked as Vietnamese

    assert [row[2:] for row in _rows(seen["vi", "citizen"])] == [
        [point.name, f"Tiếp nhận tại {point.name}"],
        [point.name, f"Hệ thống một cửa đã nhận hồ sơ, mã hồ sơ {code}"],
        ["Hệ thống một cửa", city_notes[0]],
        ["Hệ thống một cửa", city_notes[1]],
    ]
    assert [row[2] for row in _rows(seen["en", "citizen"])] == [point.name, point.name] + ["City one-stop system"] * 2

    names_and_city_words = [point.name, staff.label, *city_notes]  # data, shown as it is in both languages
    for (language, _reader), page in seen.items():
        for row in _rows(page):
            assert TIME.match(row[0]), row
            text = " ".join(row[1:])
            if language == "vi":
                assert not ENGLISH.search(text), row
            else:
                for data in names_and_city_words:
                    text = text.replace(data, "")
                assert not VIETNAMESE.search(text), row


def test_a_refusal_shows_staff_the_citys_words_and_citizens_what_to_do(portal, counter, city, city_simulator):
    partner, point, staff = counter
    publish_procedure("9.000002", name="Thủ tục thành phố chưa có")
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        dossier = filing.file_dossier(
            session, staff, filing.FilingRequest("9.000002", point.id, uuid.uuid4().hex, citizen(), {})
        ).dossier
    assert forwarding.forward_dossier(dossier.id, worker_scope(partner), city).kind == "rejected"

    seen = _pages(portal, staff, dossier)
    refused_vi = _rows(seen["vi", "staff"])[1][3]
    assert refused_vi.startswith("Hệ thống một cửa từ chối: “MaTTHC '9.000002' is not in the procedure catalogue")
    assert refused_vi.endswith("” (mã lỗi 422, trường MaTTHC)")
    assert not ENGLISH.search(_without_quotes(refused_vi))
    refused_en = _rows(seen["en", "staff"])[1][3]
    assert refused_en.startswith("Refused by the city system: “MaTTHC '9.000002'")
    assert refused_en.endswith("” (error 422, field MaTTHC)")
    assert _rows(seen["vi", "citizen"])[1][3] == "Hệ thống một cửa từ chối nhận hồ sơ; vui lòng liên hệ điểm tiếp nhận"
    assert (
        _rows(seen["en", "citizen"])[1][3] == "The city system refused the dossier; please contact the receiving point"
    )


def test_rows_stored_by_older_versions_read_in_vietnamese_too():
    assert recorded("worker: forward to city", "vi") == "Cổng đại lý (tự động gửi hồ sơ)"
    assert recorded("city system answered 503", "vi") == (
        "Hệ thống một cửa tạm thời không xử lý được yêu cầu (mã lỗi 503)"
    )
    assert recorded("city system unreachable: ConnectError: [Errno 111] Connection refused", "vi") == (
        "Không kết nối được tới hệ thống một cửa"
    )
    assert recorded("Hệ thống một cửa từ chối: 422 HoTen is required (field ChuHoSo)", "vi") == (
        "Hệ thống một cửa từ chối: “HoTen is required” (mã lỗi 422, trường ChuHoSo)"
    )


def test_a_partner_systems_filing_names_the_system_in_the_readers_language():
    owner = Account(email="chu@bidv.vn", full_name="Lê Văn Chủ")
    system = ApiClient(name="Quầy BIDV Hàng Bài", client_id="cl_abc123", partner_id=uuid.uuid4())
    label = actor_for_client(system, owner).label  # what filing records as the event's actor
    assert recorded(label, "vi") == "Ứng dụng Quầy BIDV Hàng Bài (cl_abc123) của Lê Văn Chủ <chu@bidv.vn>"
    assert recorded(label, "en") == "API client Quầy BIDV Hàng Bài (cl_abc123) for Lê Văn Chủ <chu@bidv.vn>"


def test_every_recorded_wording_has_an_english_translation_with_the_same_parts():
    for message in MESSAGES:
        english = catalogue("en").gettext(message.vietnamese)
        assert english != message.vietnamese, message.vietnamese
        assert set(_PART.findall(english)) == set(_PART.findall(message.vietnamese))
