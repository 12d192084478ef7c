"""`python -m portal.translations [update | check]` (what `./run i18n` runs)."""

import sys

from portal.translations.tool import main

sys.exit(main(sys.argv[1:]))
