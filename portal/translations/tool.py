"""Keeping the catalogues up to date: `./run i18n` (python -m portal.translations).

`update` re-extracts `messages.pot` (`pybabel extract` with `babel.cfg` and `KEYWORDS`)
and merges it into each language's `.po` (`pybabel update`); `check` changes nothing and
fails when the .pot is out of date or a translation is missing, fuzzy or has the wrong
placeholders. Both print what is left to translate.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from portal.translations import CATALOGUE_DIR, DOMAIN, TEMPLATE, TRANSLATED_LANGUAGES, po_file

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"

# What, besides Babel's defaults (_, gettext, ngettext, N_, ...), marks a text for people:
# the message constructors of portal.core.i18n, and the DomainError classes (the message
# is their first argument). tests/portal/test_i18n.py fails when a DomainError class is in
# neither KEYWORDS nor ERRORS_WITHOUT_LITERALS, so a new one cannot slip past extraction.
KEYWORDS: dict[str, str] = {
    "Message": "1",
    "RecordedMessage": "1",
    "DocumentRefused": "1",
    "EmptyFile": "1",
    "FileTooLarge": "1",
    "UnsupportedType": "1",
    "MalformedFile": "1",  # the wordings the dossier history stores (portal/history.py)
    "PluralMessage": "1,2",
    "DomainError": "1",
    "NotFound": "1",
    "PermissionDenied": "1",
    "AuthenticationFailed": "1",
    "Conflict": "1",
    "InvalidTransition": "1",
    "ValidationFailed": "1",
    "ExternalServiceError": "1",
    "OAuthError": "1",
    "InvalidRequest": "1",
    "InvalidClient": "1",
    "InvalidScope": "1",
    "UnsupportedGrantType": "1",
    "UnknownHost": "1",
    "NothingToPay": "1",
    "RefundNotAllowed": "1",
    "RatingLinkExpired": "1",
    "IdentityMismatch": "1",
    # The sign-in services' local helpers that audit a refusal and return its error:
    # refuse(reason, message, ...) and reject(reason, message).
    "refuse": "2",
    "reject": "2",
}
# DomainError classes never given a literal message, and where their messages are marked.
ERRORS_WITHOUT_LITERALS = {
    "InvalidInput": "raised by the input guard with its MSG_* constants, marked N_() (portal/security/input_guard.py)",
    "RequestTooLarge": "raised by the input guard with its MSG_* constants, marked N_() (portal/security/input_guard.py)",
    **{
        name: "a refused document: each class words its own message, marked N_() (agents/documents/rules.py)"
        for name in (
            "DocumentRefused",
            "EmptyFile",
            "FileTooLarge",
            "UnsupportedType",
            "MalformedFile",
            "Infected",
            "Unscannable",
            "UnknownSlot",
        )
    },
    "UploadRefused": "says the message of the refused document it wraps (agents/documents/rules.py)",
    "RateLimited": "words its own Message with the seconds to wait (portal/security/rate_limits.py)",
    "ScanningUnavailable": "words its own message, marked N_() (agents/documents/service.py)",
    "Incomplete": "words its own message, marked N_() (agents/dossiers/drafts.py)",
    "ConsentRequired": "words its own message, marked N_() (agents/dossiers/returning.py)",
    "CityStateConflict": "the city's own reason, quoted with its code, as the other city errors (agents/city/client.py)",
    "ScannerUnavailable": "operator-facing (names clamd's address); the upload service answers people in its own words",
    **{
        name: "VNPay's protocol: answered to the gateway with its RspCode, logged, never shown to people"
        for name in (
            "CallbackRejected",
            "CallbackTooLarge",
            "MalformedCallback",
            "RepeatedParameter",
            "MissingSignature",
            "InvalidSignature",
            "ForeignMerchant",
            "MissingParameter",
            "InvalidParameter",
            "InvalidAmount",
            "InvalidGatewayRequest",
            "GatewayUnavailable",
            "GatewayProtocolError",
            "UnverifiedResponse",
        )
    },
    "SsoFailed": "raised with MSG_* constants (portal/auth/oidc.py, portal/controllers/sso.py), marked N_()",
}


HEADER = """\
# Texts for people in the Agent Network Portal. The source language is Vietnamese.
# Made by `./run i18n` (python -m portal.translations) from the code and the templates:
# do not edit by hand; translate in <language>/LC_MESSAGES/messages.po.
#"""


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def extract(output: Path) -> None:
    """`pybabel extract` of the whole project into `output` (a .pot file)."""
    keywords = [f"--keyword={name}:{spec}" for name, spec in KEYWORDS.items()]
    with contextlib.chdir(ROOT):  # locations relative to the repository
        _pybabel(
            "extract",
            f"--mapping-file={MAPPING}",
            *keywords,
            "--add-comments=TRANSLATORS:",
            "--add-location=file",
            "--sort-by-file",
            "--no-wrap",
            "--project=agent-network-portal",
            f"--header-comment={HEADER}",
            "--ignore-dirs=.* _* var build",
            f"--output-file={output}",
            ".",
        )


def _without_creation_date(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith('"POT-Creation-Date:'))


def update() -> bool:
    """Re-extract `messages.pot` and merge it into every catalogue. True when the .pot changed."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / TEMPLATE.name
        extract(fresh)
        text = fresh.read_text(encoding="utf-8")
    changed = not TEMPLATE.exists() or _without_creation_date(TEMPLATE.read_text(encoding="utf-8")) != (
        _without_creation_date(text)
    )
    if changed:
        TEMPLATE.write_text(text, encoding="utf-8")
    for language in TRANSLATED_LANGUAGES:
        common = ["--input-file", str(TEMPLATE), "--output-dir", str(CATALOGUE_DIR), "--domain", DOMAIN]
        if not po_file(language).exists():
            _pybabel("init", *common, "--locale", language, "--no-wrap")
        else:
            _pybabel(
                "update", *common, "--locale", language, "--no-wrap", "--ignore-obsolete", "--ignore-pot-creation-date"
            )
    return changed


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def msgids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    """The message ids of a catalogue (a plural message by its singular and plural ids)."""
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


@dataclass
class Report:
    """What a catalogue still lacks against the .pot."""

    language: str
    total: int = 0
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    not_in_template: list[str] = field(default_factory=list)
    format_errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.untranslated or self.fuzzy or self.not_in_template or self.format_errors)


def _first(message_id: str | Sequence[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def report(language: str, template: Catalog | None = None) -> Report:
    template = template or read_catalogue(TEMPLATE)
    catalog = read_catalogue(po_file(language))
    result = Report(language, total=len(msgids(template)))
    wanted = {_first(mid) for mid in msgids(template)}
    for message in catalog:
        if not message.id:
            continue
        msgid = _first(message.id)
        if msgid not in wanted:
            result.not_in_template.append(msgid)
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not all(strings):
            result.untranslated.append(msgid)
        elif message.fuzzy:
            result.fuzzy.append(msgid)
    present = {_first(mid) for mid in msgids(catalog)}
    result.untranslated.extend(sorted(wanted - present))
    for message, errors in catalog.check():
        result.format_errors.extend(f"{_first(message.id)}: {error}" for error in errors)
    return result


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command not in ("update", "check"):
        print("usage: python -m portal.translations [update | check]")
        return 2
    if command == "update":
        changed = update()
        print(f"{TEMPLATE.relative_to(ROOT)}: {'updated' if changed else 'unchanged'}")
    else:
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            fresh = Path(tmp) / TEMPLATE.name
            extract(fresh)
            stale = msgids(read_catalogue(fresh)) != msgids(read_catalogue(TEMPLATE))
        if stale:
            print(f"{TEMPLATE.relative_to(ROOT)} is out of date: run ./run i18n")
    ok = command == "update" or not stale
    for language in TRANSLATED_LANGUAGES:
        result = report(language)
        path = po_file(language).relative_to(ROOT)
        print(
            f"{path}: {result.total} texts, {len(result.untranslated)} untranslated, {len(result.fuzzy)} fuzzy"
            + (f", {len(result.format_errors)} placeholder errors" if result.format_errors else "")
        )
        for label, items in (
            ("untranslated", result.untranslated),
            ("fuzzy (check, then remove the fuzzy flag)", result.fuzzy),
            ("placeholders differ", result.format_errors),
            ("not in messages.pot", result.not_in_template),
        ):
            for item in items:
                print(f"  {label}: {item}")
        ok = ok and result.complete
    return 0 if ok else 1
