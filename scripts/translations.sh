#!/usr/bin/env bash
# Refresh the UI's message catalogs: extract every _("…") from code and templates,
# merge into each language's .po (translate the new entries there), compile the .mo.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
pybabel -q extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy_gettext --no-location \
  --sort-output -o build/messages.pot .
pybabel -q update -i build/messages.pot -d crm_platform/web/translations --no-fuzzy-matching \
  --ignore-obsolete
pybabel compile -d crm_platform/web/translations --statistics
