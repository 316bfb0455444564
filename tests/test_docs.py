"""The documentation stays true to the code: every setting is documented, every doc linked from README exists."""

from __future__ import annotations

import re
from pathlib import Path

from platform_core.config import DefaultConfig
from platform_core.registry import load_manifests

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_configuration_reference():
    reference = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    settings = [name for name in vars(DefaultConfig) if name.isupper()]
    settings += [name for manifest in load_manifests(DefaultConfig.INSTALLED_APPS) for name in manifest.settings]
    missing = [name for name in settings if f"MES_{name}" not in reference]
    assert not missing, f"document these settings in docs/operations.md: {missing}"


def test_links_between_documents_resolve():
    for document in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", document.read_text(encoding="utf-8")):
            assert (document.parent / target).exists(), f"{document.name} links to missing {target}"
