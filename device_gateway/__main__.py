"""`onsite24 gateway`: consume device alarms, status and heartbeats until SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from functools import partial

from device_gateway.client import Gateway
from device_gateway.policy import GatewayPolicy
from device_gateway.service import ingest, store_failure
from dispatch.core.db import make_engine, make_sessionmaker
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings


def main(settings: Settings, *, client_id: str | None = None) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url, pool_size=2)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        factory = make_sessionmaker(engine)
        policy = GatewayPolicy.from_policy(policy_for(settings), public_base_url=settings.public_base_url)
        gateway = Gateway(
            settings,
            partial(ingest, factory, policy=policy),
            on_failure=partial(store_failure, factory),
            client_id=client_id,
        )
        gateway.run(stop)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(Settings())
