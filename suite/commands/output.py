"""Printing results: one JSON object on stdout with ``--json``, readable text otherwise."""

from __future__ import annotations

import json
from typing import Any

from suite.jsonable import to_jsonable


def emit_json(payload: dict[str, Any]) -> None:
    print(json.dumps(to_jsonable(payload), indent=2, allow_nan=False))
