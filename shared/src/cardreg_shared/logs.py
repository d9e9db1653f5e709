"""One log format for every service. Handlers log ids and codes, never personal data."""

from __future__ import annotations

import logging
import os


def configure(service: str) -> None:
    logging.basicConfig(
        level=os.environ.get("CARDREG_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s",
    )
