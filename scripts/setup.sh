#!/usr/bin/env bash
# Creates .venv (if needed), installs the product with its test extras, compiles the translations.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
if compgen -G "platform_core/translations/*/LC_MESSAGES/messages.po" > /dev/null; then
  .venv/bin/pybabel compile --use-fuzzy -d platform_core/translations > /dev/null
fi
