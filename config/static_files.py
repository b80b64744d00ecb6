"""How /static/ is stored: hashed, compressed copies made by collectstatic (`make run` runs it).

WhiteNoise serves a hashed name with a year's `Cache-Control: max-age, immutable`, and its gzip
(or Brotli) copy to browsers that accept it. With DEBUG on, Django's `{% static %}` names the
plain files instead (so an edited script shows on reload).
"""

from __future__ import annotations

# WhiteNoise ships no type information: its storage is Any to mypy.
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class CollectedStaticFiles(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """The manifest storage, naming the plain file where the manifest has no entry for it: before
    collectstatic has run (the tests, a fresh checkout) or for a file added since. WhiteNoise then
    serves it from the apps' folders (WHITENOISE_USE_FINDERS), uncompressed and briefly cached,
    where Django's own storage would fail the page."""

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:  # no manifest entry (Django's message: "Missing staticfiles manifest")
            return name
