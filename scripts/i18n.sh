#!/usr/bin/env bash
# Maintain the translation catalogs in platform_core/translations (gettext domain "messages").
#
#   scripts/i18n.sh extract   collect the UI strings from the Python code and the templates into messages.pot
#   scripts/i18n.sh update    merge messages.pot into every language's messages.po (zh_Hans_CN, i.e. zh_CN, is created if none exists)
#   scripts/i18n.sh compile   compile every messages.po into messages.mo (the .mo files are not committed)
#   scripts/i18n.sh all       extract, update and compile
#
# After "extract" and "update", translate the entries with an empty msgstr in
# platform_core/translations/zh_Hans_CN/LC_MESSAGES/messages.po; tests/test_i18n.py fails while any is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -x .venv/bin/pybabel ]]; then
    PYBABEL=.venv/bin/pybabel
else
    PYBABEL=pybabel
fi

TRANSLATIONS=platform_core/translations
POT="$TRANSLATIONS/messages.pot"
FIRST_LOCALE=zh_Hans_CN  # Babel's canonical name for zh_CN: Flask-Babel looks for this folder

extract() {
    local version
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
    mkdir -p "$TRANSLATIONS"
    "$PYBABEL" -q extract \
        -F babel.cfg \
        -k _l -k lazy_gettext \
        -c TRANSLATORS: \
        --no-location \
        --sort-output \
        --no-wrap \
        --project "MES Suite" \
        --version "${version:-0}" \
        --header-comment "# Translations template for PROJECT.
# This file is distributed under the same license as the PROJECT project." \
        -o "$POT" \
        .
}

update() {
    # A catalog for every language directory that has one; Simplified Chinese is created on the first run.
    if ! compgen -G "$TRANSLATIONS/*/LC_MESSAGES/messages.po" >/dev/null; then
        "$PYBABEL" -q init -i "$POT" -d "$TRANSLATIONS" -D messages -l "$FIRST_LOCALE" --no-wrap
    fi
    "$PYBABEL" -q update \
        -i "$POT" \
        -d "$TRANSLATIONS" \
        -D messages \
        --no-fuzzy-matching \
        --ignore-obsolete \
        --no-wrap
}

compile() {
    "$PYBABEL" -q compile -d "$TRANSLATIONS" -D messages
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) extract; update; compile ;;
    *)
        echo "usage: $0 {extract|update|compile|all}" >&2
        exit 2
        ;;
esac
