"""The embedded AWS's fake credentials, in one place: what its server prints and uses, and what the
benchmark hands the programs it runs. (Tests take theirs from ``tests/conftest.py``.)"""

from __future__ import annotations

from typing import Final

FAKE_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""moto accepts any key; an unknown one maps to its default account, 123456789012."""
