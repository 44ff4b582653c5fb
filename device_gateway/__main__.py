"""`onsite24 gateway`: consume device alarms until SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from functools import partial

from device_gateway.client import run_gateway
from device_gateway.service import store_alarm
from dispatch.core.db import make_engine, make_sessionmaker
from dispatch.core.settings import Settings


def main(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url, pool_size=2)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run_gateway(settings, partial(store_alarm, make_sessionmaker(engine)), stop=stop)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(Settings())
