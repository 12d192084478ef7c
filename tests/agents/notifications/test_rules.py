"""The pure rules of notifications: recipients, SMS length, and the Vietnamese texts."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from agents.notifications.rules import (
    InvalidRecipient,
    NotificationFacts,
    NotificationKind,
    email_text,
    is_gsm7,
    kind_for_city_status,
    message_id_for,
    normalise_email,
    normalise_mobile,
    plain_reason,
    sms_segments,
    sms_text,
    tracking_link,
    unaccented,
)

# -- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "84912345678",
        "+84912345678",
        "(+84) 912 345 678",
        "0084912345678",
    ],
)
def test_every_written_form_of_a_mobile_number_normalises_to_e164(raw: str) -> None:
    assert normalise_mobile(raw) == "+84912345678"


@pytest.mark.parametrize("prefix", ["03", "05", "07", "08", "09"])
def test_all_mobile_prefixes_since_2018_are_accepted(prefix: str) -> None:
    assert normalise_mobile(prefix + "12345678") == "+84" + prefix[1] + "12345678"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "missing_phone"),
        ("   ", "missing_phone"),
        ("02438251234", "landline"),
        ("+84 24 3825 1234", "landline"),
        ("01234567890", "old_mobile_format"),
        ("0612345678", "not_mobile"),
        ("0412345678", "not_mobile"),
        ("091234567", "not_mobile"),
        ("09123456789", "not_mobile"),
        ("+1 202 555 0100", "not_mobile"),
        ("0912abc678", "malformed_phone"),
        ("0912345678 ext 2", "malformed_phone"),
    ],
)
def test_what_cannot_receive_an_sms_is_refused_with_the_reason(raw: str, code: str) -> None:
    with pytest.raises(InvalidRecipient) as refused:
        normalise_mobile(raw)
    assert refused.value.code == code
    assert refused.value.message  # Vietnamese, for the form field


# -- email addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("lan@example.vn", "lan@example.vn"),
        ("  Lan.Nguyen@Example.VN ", "Lan.Nguyen@example.vn"),
        ("lan+dossier@mail.example.com.vn", "lan+dossier@mail.example.com.vn"),
        ("lan@bưuđiện.vn", "lan@xn--buin-1ua66gr30m.vn"),
    ],
)
def test_an_address_is_kept_with_its_domain_lowercased_and_ascii(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "missing_email"),
        ("lan", "malformed_email"),
        ("lan@", "malformed_email"),
        ("@example.vn", "malformed_email"),
        ("lan@@example.vn", "malformed_email"),
        ("lan@example", "malformed_email"),
        ("lan@example.v1", "malformed_email"),
        ("lan..nguyen@example.vn", "malformed_email"),
        (".lan@example.vn", "malformed_email"),
        ("lan nguyen@example.vn", "malformed_email"),
        ("lan@-example.vn", "malformed_email"),
        ("Lan <lan@example.vn>", "malformed_email"),
        ("lan@example.vn\r\nBcc: x@y.vn", "malformed_email"),
        ("nguyễn@example.vn", "non_ascii_email"),
        ("a" * 65 + "@example.vn", "malformed_email"),
    ],
)
def test_an_address_we_cannot_send_to_is_refused(raw: str, code: str) -> None:
    with pytest.raises(InvalidRecipient) as refused:
        normalise_email(raw)
    assert refused.value.code == code


def test_a_message_id_is_derived_from_our_key() -> None:
    assert message_id_for("notification-4f1c", "dichvucong.demo.vn") == "<notification-4f1c@dichvucong.demo.vn>"
    assert message_id_for("a b<c>", "x.vn") == "<a-b-c@x.vn>"
    with pytest.raises(ValueError):
        message_id_for("<>", "x.vn")


# -- SMS length -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 154, 3),  # an escape pair is not split between parts
        ("à" * 160, 1),
        ("ệ" * 70, 1),
        ("ệ" * 71, 2),
        ("ệ" * 134, 2),
        ("ệ" * 135, 3),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_are_counted_as_gateways_bill_them(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_only_six_accented_letters_are_in_the_gsm_alphabet() -> None:
    assert is_gsm7("à è é ì ò ù")
    for letter in "áảãạăắằâấđêếơớưứýỳ":
        assert not is_gsm7(letter), letter


def test_unaccented_vietnamese_is_gsm7() -> None:
    text = "Đặng Thị Ánh Tuyết – “Hồ sơ” đã được tiếp nhận…"
    plain = unaccented(text)
    assert plain == 'Dang Thi Anh Tuyet - "Ho so" da duoc tiep nhan...'
    assert is_gsm7(plain)
    assert is_gsm7(unaccented("Mọi ký tự ạ ẩ ẫ ặ ự ữ ỵ ỷ ỹ Ự Ữ Ỵ"))


# -- texts ---------------------------------------------------------------------------------------

PRODUCTION_LINK = tracking_link("https://dichvucong.hanoi.gov.vn", "HN-ABCD-EFGH")
LONG_NOTE = (
    "Đề nghị công dân bổ sung giấy tờ: bản sao có chứng thực giấy chứng nhận quyền sử dụng đất, "
    "hợp đồng thuê nhà có công chứng và xác nhận của tổ dân phố nơi cư trú"
)


def facts(**overrides: object) -> NotificationFacts:
    values: dict[str, object] = {
        "tracking_code": "HN-ABCD-EFGH",
        "tracking_link": PRODUCTION_LINK,
        "procedure_name": "Đăng ký tạm trú",
        "note": "Đề nghị công dân bổ sung giấy tờ: bản sao giấy tờ chứng minh chỗ ở hợp pháp",
        "due_date": date(2026, 12, 5),
        "point_name": "Bưu điện Bờ Hồ",
        "point_address": "75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội",
        "citizen_name": "Nguyễn Thị Lan",
        "rating_link": "https://dichvucong.hanoi.gov.vn/rate/HN-ABCD-EFGH?token=abc",
    }
    values.update(overrides)
    return NotificationFacts(**values)  # type: ignore[arg-type]


def test_the_city_statuses_that_matter_to_the_citizen() -> None:
    assert {status: kind_for_city_status(status) for status in range(1, 11)} == {
        1: None,
        2: NotificationKind.received,
        3: NotificationKind.refused,
        4: None,
        5: NotificationKind.supplement_requested,
        6: None,
        7: None,  # the citizen asked for the withdrawal at the counter
        8: NotificationKind.stopped,
        9: NotificationKind.result_ready,
        10: NotificationKind.returned,
    }


def test_a_tracking_link_opens_the_tracking_page_with_the_code() -> None:
    assert tracking_link("http://127.0.0.1:8000/", "HN-ABCD-EFGH") == "http://127.0.0.1:8000/track?code=HN-ABCD-EFGH"


@pytest.mark.parametrize("kind", list(NotificationKind))
@pytest.mark.parametrize("note", [None, "ngắn gọn", LONG_NOTE])
@pytest.mark.parametrize("accents", [True, False])
def test_every_sms_fits_two_segments_and_carries_the_code_and_link(
    kind: NotificationKind, note: str | None, accents: bool
) -> None:
    text = sms_text(
        kind, facts(note=note, point_name=LONG_NOTE if note == LONG_NOTE else "Bưu điện Bờ Hồ"), accents=accents
    )
    assert sms_segments(text) <= 2, text
    assert "HN-ABCD-EFGH" in text
    assert text.endswith(PRODUCTION_LINK)
    assert "Nguyễn" not in text and "Nguyen" not in text  # no name in an SMS: a phone may be shared
    assert is_gsm7(text) is not accents
    if accents:
        assert unicodedata.is_normalized("NFC", text)


def test_an_sms_says_what_to_bring_and_why_in_plain_words() -> None:
    supplement = sms_text(
        NotificationKind.supplement_requested, facts(tracking_link="http://127.0.0.1:8000/track?code=X")
    )
    assert supplement.startswith("Hồ sơ HN-ABCD-EFGH cần bổ sung: bản sao giấy tờ chứng minh chỗ ở hợp pháp.")
    assert "Đề nghị" not in supplement  # the city's lead-in is dropped
    refused = sms_text(
        NotificationKind.refused,
        facts(
            note="Hồ sơ không được tiếp nhận: thành phần hồ sơ không đầy đủ, không hợp lệ.",
            tracking_link="http://127.0.0.1:8000/track?code=X",
        ),
    )
    assert refused.startswith("Hồ sơ HN-ABCD-EFGH không được tiếp nhận: thành phần hồ sơ không đầy đủ, không hợp lệ.")
    received = sms_text(NotificationKind.received, facts())
    assert "hẹn trả ngày 05/12/2026" in received


def test_a_long_note_is_shortened_at_a_word_and_marked() -> None:
    text = sms_text(NotificationKind.supplement_requested, facts(note=LONG_NOTE))
    shortened = text.split(": ", 1)[1].split(" Xem: ")[0]
    assert shortened.endswith("…")
    assert LONG_NOTE.split(": ", 1)[1].startswith(shortened.removesuffix("…"))
    assert not shortened.removesuffix("…").endswith((" ", ","))


def test_a_note_that_cannot_fit_is_left_to_the_tracking_page() -> None:
    link = tracking_link("https://" + "a" * 45 + ".gov.vn", "HN-ABCD-EFGH")  # room for the text, not for a note
    text = sms_text(NotificationKind.refused, facts(note=LONG_NOTE, tracking_link=link))
    assert text == f"Hồ sơ HN-ABCD-EFGH không được tiếp nhận. Xem: {link}"
    assert sms_segments(text) <= 2


def test_plain_reason_drops_the_citys_lead_in_and_keeps_the_substance() -> None:
    assert plain_reason("Hồ sơ không được tiếp nhận: thành phần hồ sơ không đầy đủ.") == "thành phần hồ sơ không đầy đủ"
    assert plain_reason("  Thiếu   bản sao\nCCCD ") == "Thiếu bản sao CCCD"
    assert plain_reason("Ho\u0302\u0300 so\u031b thiếu") == "Hồ sơ thiếu"
    assert plain_reason("") is None
    assert plain_reason(":") is None


@pytest.mark.parametrize(
    ("kind", "subject", "says"),
    [
        (NotificationKind.received, "Hồ sơ HN-ABCD-EFGH đã được tiếp nhận", "Ngày hẹn trả kết quả: 05/12/2026."),
        (
            NotificationKind.supplement_requested,
            "Hồ sơ HN-ABCD-EFGH cần bổ sung giấy tờ",
            "Vui lòng mang giấy tờ cần bổ sung đến Bưu điện Bờ Hồ (75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội).",
        ),
        (NotificationKind.refused, "Hồ sơ HN-ABCD-EFGH không được tiếp nhận", "Lý do: bản sao giấy tờ"),
        (NotificationKind.stopped, "Hồ sơ HN-ABCD-EFGH bị dừng xử lý", "Lý do: bản sao giấy tờ"),
        (NotificationKind.result_ready, "Hồ sơ HN-ABCD-EFGH đã có kết quả", "để nhận kết quả"),
        (NotificationKind.returned, "Hồ sơ HN-ABCD-EFGH đã được trả kết quả", "rate/HN-ABCD-EFGH?token=abc"),
    ],
)
def test_every_email_names_the_dossier_and_says_what_to_do(kind: NotificationKind, subject: str, says: str) -> None:
    text = email_text(kind, facts())
    assert text.subject == subject
    assert text.body.startswith("Kính gửi ông/bà Nguyễn Thị Lan,\n")
    assert "Hồ sơ Đăng ký tạm trú của ông/bà (mã tra cứu HN-ABCD-EFGH)" in text.body
    assert says in text.body
    assert f"Tra cứu tình trạng hồ sơ: {PRODUCTION_LINK}" in text.body
    assert unicodedata.is_normalized("NFC", text.body)


def test_an_email_without_a_name_or_note_still_reads_well() -> None:
    text = email_text(NotificationKind.supplement_requested, facts(citizen_name=None, note=None, point_name=None))
    assert text.body.startswith("Kính gửi ông/bà,\n")
    assert "(xem chi tiết tại trang tra cứu)" in text.body
    assert "điểm tiếp nhận đã nộp hồ sơ" in text.body
    assert "None" not in text.body


def test_when_even_the_link_does_not_fit_the_shortest_text_is_sent_anyway() -> None:
    link = tracking_link("https://" + "a" * 120 + ".gov.vn", "HN-ABCD-EFGH")
    text = sms_text(NotificationKind.stopped, facts(tracking_link=link))
    assert text == f"Hồ sơ HN-ABCD-EFGH bị dừng xử lý. Xem: {link}"
    assert sms_segments(text) == 3
