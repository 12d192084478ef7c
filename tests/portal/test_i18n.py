"""Vietnamese first, English available: every text the templates translate has an English entry."""

import re
from pathlib import Path

from portal.i18n import EN, VALUE_LABELS

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LITERAL = re.compile(r"""_\(\s*"([^"]+)"\s*\)|_\(\s*'([^']+)'\s*\)""")


def test_every_literal_template_text_has_an_english_translation():
    missing = set()
    for template in TEMPLATES.rglob("*.html"):
        for double, single in LITERAL.findall(template.read_text(encoding="utf-8")):
            text = double or single
            if text not in EN:
                missing.add(f"{template.relative_to(TEMPLATES)}: {text}")
    assert not missing, "\n".join(sorted(missing))


def test_every_status_and_role_label_has_an_english_translation():
    assert {label for label in VALUE_LABELS.values() if label not in EN} == set()
