"""Vietnamese first, English complete: the catalogues, the request's language, pages and API errors in both."""

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

import portal.app  # noqa: F401  (imports every module that defines a DomainError)
from portal.core.errors import DomainError, NotFound
from portal.core.i18n import Message, PluralMessage
from portal.core.settings import get_settings
from portal.i18n import catalogue, resolve_language, translate
from portal.translations import TEMPLATE, po_file
from portal.translations.tool import ERRORS_WITHOUT_LITERALS, KEYWORDS, extract, msgids, read_catalogue, report
from tests.factories import create_partner, create_point, create_staff, ensure_procedures, file_birth_registration

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
VIETNAMESE_LETTER = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
GETTEXT_CALLS = {"_", "gettext", "ngettext"}


# -- the catalogues --------------------------------------------------------------------


def test_every_text_in_the_catalogue_has_an_english_translation_that_is_not_fuzzy():
    result = report("en")
    assert result.total > 250
    assert result.untranslated == [], "no English yet (./run i18n, then translate in the .po)"
    assert result.fuzzy == [], "fuzzy: check the English, then remove the fuzzy flag"
    assert result.format_errors == [], "the English must use the same %(placeholders)s"
    assert result.not_in_template == [], "not in messages.pot any more (./run i18n drops them)"


def test_the_catalogue_template_holds_exactly_what_the_code_and_templates_say(tmp_path):
    fresh = tmp_path / "messages.pot"
    extract(fresh)
    extracted, committed = msgids(read_catalogue(fresh)), msgids(read_catalogue(TEMPLATE))
    assert extracted - committed == set(), "texts new in the code: run ./run i18n and translate them"
    assert committed - extracted == set(), "texts gone from the code: run ./run i18n"


def test_every_domain_error_class_is_an_extraction_keyword():
    def subclasses(cls: type) -> set[type]:
        return {cls} | {sub for direct in cls.__subclasses__() for sub in subclasses(direct)}

    names = {cls.__name__ for cls in subclasses(DomainError)}
    assert {"NotFound", "InvalidClient", "SsoFailed"} <= names  # the walk sees the domain's and the web layer's
    assert names - KEYWORDS.keys() - ERRORS_WITHOUT_LITERALS.keys() == set()


def _readable(html: str) -> str:
    """Literal HTML as a reader meets it: text, and the values of attributes (titles, placeholders)."""
    text = re.sub(r"<[^>]*>", lambda tag: " ".join(re.findall(r'"([^"]*)"', tag.group())), html)
    return " ".join(text.split())


def _untranslated_template_texts(source: str) -> list[str]:
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    problems = [
        _readable(node.data) for node in tree.find_all(nodes.TemplateData) if VIETNAMESE_LETTER.search(node.data)
    ]
    marked: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_CALLS:
            if not call.args or not isinstance(call.args[0], nodes.Const):
                problems.append(f"{call.node.name}() of a variable (write `value | translate`)")
            marked.update(id(arg) for arg in call.args if isinstance(arg, nodes.Const))
    problems += [
        const.value
        for const in tree.find_all(nodes.Const)
        if isinstance(const.value, str) and VIETNAMESE_LETTER.search(const.value) and id(const) not in marked
    ]
    return problems


def test_templates_write_every_vietnamese_text_as_a_literal_inside_gettext():
    assert _untranslated_template_texts('<p>Xin chào</p>{{ _(name) }}{{ "Tra cứu" if x }}{{ _("Tra cứu") }}') == [
        "Xin chào",
        "_() of a variable (write `value | translate`)",
        "Tra cứu",
    ]
    found = {
        str(path.relative_to(TEMPLATES)): problems
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (problems := _untranslated_template_texts(path.read_text(encoding="utf-8")))
    }
    assert found == {}


# -- texts with parameters and plural forms -----------------------------------------------


def test_a_message_is_vietnamese_as_a_string_and_keeps_its_parameters_for_other_languages():
    reason = Message("không rõ lý do")
    message = Message("Tài khoản đã bị khóa: %(reason)s", reason=reason)
    assert message == "Tài khoản đã bị khóa: không rõ lý do"
    assert translate(message, "vi") == "Tài khoản đã bị khóa: không rõ lý do"
    assert translate(message, "en") == "The account is deactivated: no reason given"
    typed = Message("Tài khoản đã bị khóa: %(reason)s", reason="nghỉ việc")  # what a person typed stays as typed
    assert translate(typed, "en") == "The account is deactivated: nghỉ việc"


def test_plural_forms_follow_the_count_in_english_and_not_in_vietnamese():
    def minutes(n: int) -> PluralMessage:
        return PluralMessage(
            "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
            "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
            n,
        )

    assert [translate(minutes(n), "vi") for n in (1, 15)] == [
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 1 phút",
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 15 phút",
    ]
    assert [translate(minutes(n), "en") for n in (1, 15)] == [
        "Too many failed attempts; try again in 1 minute",
        "Too many failed attempts; try again in 15 minutes",
    ]


def test_a_domain_error_keeps_the_vietnamese_msgid_and_its_parameters():
    error = NotFound("Không có thủ tục mã %(code)s", params={"code": "9.999"})
    assert str(error) == error.message == "Không có thủ tục mã 9.999"
    assert translate(error.message, "en") == "No procedure with code 9.999"


def test_text_that_is_not_in_the_catalogue_comes_back_as_it_is():
    assert translate("Bưu điện Bờ Hồ", "en") == "Bưu điện Bờ Hồ"
    assert translate("", "en") == ""
    assert catalogue("fr").gettext("Tra cứu") == "Tra cứu"  # no catalogue: the Vietnamese source


# -- the request's language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "accept_language", "language"),
    [
        (None, None, "vi"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, vi;q=0.4", "en"),
        (None, "en;q=0.3, vi;q=0.8", "vi"),
        (None, "en;q=0", "vi"),
        (None, "fr, de", "vi"),
        (None, "en;q=abc", "vi"),
        ("en", "vi", "en"),
        ("vi", "en", "vi"),
        ("xx", "en", "en"),
    ],
)
def test_the_language_is_the_cookie_then_accept_language_then_vietnamese(cookie, accept_language, language):
    assert resolve_language(cookie, accept_language) == language


class _VisibleText(HTMLParser):
    """The texts a reader sees: text nodes and the titles and placeholders of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self._skip += tag in ("script", "style")
        self.texts += [value for name, value in attrs if name in ("title", "placeholder", "aria-label") and value]

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self._skip and data.strip():
            self.texts.append(data)


def _leftover_vietnamese(page: str) -> set[str]:
    """Texts of the catalogue that the English page still shows in Vietnamese.

    Data (names, addresses, what people typed) is Vietnamese in both languages, so a
    text counts only when a whole piece of the page (between separators) is a msgid, or
    when a msgid of three words or more appears anywhere in it.
    """
    english = catalogue("en")
    sources = {
        mid if isinstance(mid, str) else mid[0]
        for mid in msgids(read_catalogue(po_file("en")))
        if VIETNAMESE_LETTER.search(mid if isinstance(mid, str) else mid[0])
    }
    sources = {s for s in sources if english.gettext(s) != s and "%(" not in s}
    parser = _VisibleText()
    parser.feed(page)
    found = set()
    for text in parser.texts:
        pieces = {piece.strip() for piece in re.split(r"[·:|—*()\n]", text)}
        found |= sources & pieces
        found |= {s for s in sources if len(s.split()) >= 3 and s in text}
    return found


@pytest.fixture(scope="module")
def tracked():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Điểm Phố Huế")
    staff = create_staff(point, partner)
    return file_birth_registration(staff, point, owner_phone="0912000333")


def test_pages_in_english_show_no_vietnamese_text_of_the_portal(portal, tracked):
    client = portal()
    client.http.cookies.set("lang", "en")
    login, home, track_form = client.get("/login"), client.get("/"), client.get("/track")
    track = client.post_form("/track", {"code": tracked.tracking_code, "phone": "0912000333"})
    assert all(page.status_code == 200 for page in (login, home, track_form, track))
    for page in (login, home, track_form, track):
        assert '<html lang="en">' in page.text
        assert _leftover_vietnamese(page.text) == set()
    assert "Sign in" in login.text and "Password" in login.text
    assert "Agent points" in home.text and "Opening hours" in home.text
    assert "Tracking code" in track.text and "Processing history" in track.text
    assert "Queued for the city system" in track.text and "Điểm Phố Huế" in track.text  # data stays as it is
    # The check itself sees a leftover: the same page in Vietnamese is full of them.
    assert {"Tra cứu hồ sơ", "Mã theo dõi", "Lịch sử xử lý"} <= _leftover_vietnamese(
        portal().post_form("/track", {"code": tracked.tracking_code, "phone": "0912000333"}).text
    )


def test_the_browser_language_is_used_until_the_person_chooses_one(portal):
    client = portal()
    english = {"accept-language": "en-GB,en;q=0.9,vi;q=0.5"}
    assert '<html lang="en">' in client.get("/login", headers=english).text
    client.get("/lang/vi", follow_redirects=False)
    chosen = client.get("/login", headers=english)
    assert '<html lang="vi">' in chosen.text and "Mật khẩu" in chosen.text


def test_an_error_page_for_an_unknown_address_speaks_the_language_too(portal):
    client = portal()
    client.http.cookies.set("lang", "en")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Not found" in missing.text and "Back to home" in missing.text


# -- the JSON API ------------------------------------------------------------------------


def _track_api(client, headers=None):  # type: ignore[no-untyped-def]
    body = {"tracking_code": "HN-0000-0000", "phone": "0912000111"}
    return client.http.post("/api/v1/track", json=body, headers={"x-csrftoken": client.csrf, **(headers or {})})


def test_a_domain_error_from_the_json_api_follows_accept_language_and_keeps_its_code(portal):
    vietnamese = _track_api(portal())
    english = _track_api(portal(), headers={"accept-language": "en"})
    assert vietnamese.status_code == english.status_code == 404
    assert vietnamese.json() == {"error": "not_found", "message": "Không tìm thấy hồ sơ với mã và số điện thoại này"}
    assert english.json() == {"error": "not_found", "message": "No dossier with this code and phone number"}


def test_a_domain_error_from_the_json_api_follows_the_language_cookie(portal):
    client = portal()
    client.get("/lang/en", follow_redirects=False)
    assert _track_api(client).json()["message"] == "No dossier with this code and phone number"


def test_field_errors_from_the_json_api_are_translated_too(portal):
    partner = create_partner()
    point = create_point(partner)
    client = portal()
    client.sign_in(create_staff(point, partner).email)
    client.http.cookies.set("lang", "en")
    body = {
        "procedure_code": "2.000815",
        "agent_point_id": str(point.id),
        "idempotency_key": "k" * 20,
        "citizen": {"owner_id_number": "1"},
        "form": {},
    }
    refused = client.post_json("/api/v1/dossiers", body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "validation_failed"
    assert refused.json()["message"] == "The dossier is not valid yet; please correct the marked fields"
    assert refused.json()["field_errors"]["owner_id_number"] == "The ID number must be exactly 12 digits"
    assert refused.json()["field_errors"]["owner_full_name"] == "Required"


# -- a message with a parameter from settings, in both languages ----------------------------


def test_the_lockout_message_shows_the_configured_minutes_in_either_language(portal):
    minutes = math.ceil(get_settings().sign_in.lockout_seconds / 60)
    partner = create_partner()
    victim = create_staff(create_point(partner), partner)
    client = portal()
    for _ in range(get_settings().sign_in.max_failures):
        client.sign_in(victim.email, "guess")
    vietnamese = client.sign_in(victim.email, "guess")
    client.http.cookies.set("lang", "en")
    english = client.sign_in(victim.email, "guess")
    assert vietnamese.status_code == english.status_code == 401
    assert f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {minutes} phút" in vietnamese.text
    assert f"Too many failed attempts; try again in {minutes} minutes" in english.text
