"""The gettext catalogues of the portal: where they live (the tool that keeps them is `tool.py`).

- `messages.pot`: every text for people, extracted from the code and the templates.
- `<language>/LC_MESSAGES/messages.po`: its translations. Vietnamese is the source
  language, so there is no `vi` catalogue: a msgid already is the Vietnamese text.

No `.mo` file is kept or built: `portal.i18n` compiles each `.po` in memory the first
time a process needs it (docs/decisions/0010-translations.md says why).
"""

from __future__ import annotations

from pathlib import Path

CATALOGUE_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"
TEMPLATE = CATALOGUE_DIR / f"{DOMAIN}.pot"
TRANSLATED_LANGUAGES = ("en",)


def po_file(language: str) -> Path:
    return CATALOGUE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
