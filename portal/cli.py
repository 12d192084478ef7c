"""The `portal` command: demo, serve, worker, db upgrade, seed, audit verify."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any
from urllib.parse import urlparse

from portal.core.logging import configure_logging, new_request_id, open_context
from portal.core.settings import DEMO_SMS_PORT, Settings, SettingsError, get_settings


def _settings_or_exit() -> Settings:
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    configure_logging(settings, service="cli")
    return settings


def cmd_db_upgrade(_: argparse.Namespace) -> None:
    from portal.core.migrations import upgrade_database

    upgrade_database(_settings_or_exit())
    print("database is at the newest schema")


def cmd_seed(_: argparse.Namespace) -> None:
    from agents.seed import seed_demo

    _settings_or_exit()
    for login in seed_demo():
        print(f"  {login.role:16} {login.email:32} {login.where}")


def cmd_serve(args: argparse.Namespace) -> None:
    from portal.launcher import prepare_metrics
    from portal.serving import serve

    configure_logging(_settings_or_exit(), service="web")
    prepare_metrics(os.environ, "web")  # before anything imports prometheus_client
    serve("portal.app:create_app", host=args.host, port=args.port, workers=args.workers)


def cmd_worker(args: argparse.Namespace) -> None:
    _settings_or_exit()
    from portal.launcher import child_env, prepare_metrics, worker_command

    env = child_env()
    prepare_metrics(env, "worker")
    command = worker_command(env, concurrency=args.concurrency, beat=not args.no_beat)
    # Become the worker, so a supervisor's signals (SIGTERM: finish the running tasks) reach Celery itself.
    os.execve(command[0], command, env)  # noqa: S606 - our own interpreter, our own arguments


def cmd_audit_verify(_: argparse.Namespace) -> None:
    from portal.core.audit import verify_chain
    from portal.core.db import read_only
    from portal.core.tenancy import Scope

    _settings_or_exit()
    with read_only(Scope.network("auditor verifies the chain", actor_label="cli", origin="cli")) as session:
        report = verify_chain(session)
    if report.ok:
        print(f"audit chain intact: {report.checked} entries")
        return
    print(f"audit chain BROKEN at entry {report.broken_at}: {report.problem} ({report.checked} entries good before it)")
    raise SystemExit(1)


def _start_demo_clamd(settings: Any) -> Any:
    """The demo's own clamd (local EICAR database) at the var folder's socket, unless settings name another."""
    from portal.scanner_daemon import ClamdError, socket_path, start_clamd

    if settings.scanner.socket_path != socket_path(settings.var_dir):
        return None
    try:
        return start_clamd(settings.var_dir)
    except ClamdError as exc:
        print(f"portal demo: clamd did not start ({exc}); uploads will be refused", file=sys.stderr)
        return None


def cmd_demo(args: argparse.Namespace) -> None:
    """Everything on the embedded default, with demo data, in the foreground."""
    os.environ.setdefault("PORTAL_ENV", "demo")
    settings = _settings_or_exit()
    if settings.is_production:
        print("portal demo refuses to run with PORTAL_ENV=production", file=sys.stderr)
        raise SystemExit(2)
    from agents.seed import DEMO_PASSWORD, DEMO_SSO, seed_demo
    from portal.core.migrations import check_app_role, upgrade_database
    from portal.launcher import (
        Stack,
        child_env,
        start_city_simulator,
        start_identity_provider,
        start_mail_server,
        start_sms_gateway,
        start_vnpay_simulator,
        start_web,
        start_worker,
        wait_for_http,
        wait_for_smtp,
    )

    if not settings.database.is_sqlite and settings.database.url == settings.database.migration_url:
        # Only the owner's URL was given: migrate as the owner, run as a role RLS applies to.
        from portal.core.migrations import provision_app_role
        from portal.core.settings import get_settings

        os.environ["DATABASE_MIGRATION_URL"] = settings.database.url
        os.environ["DATABASE_URL"] = provision_app_role(settings.database.url)
        get_settings.cache_clear()
        settings = get_settings()
    upgrade_database(settings)
    check_app_role(settings)
    idp_port = 8200
    os.environ.setdefault("IDP_PUBLIC_URL", f"http://127.0.0.1:{idp_port}")
    logins = seed_demo()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    city_port = urlparse(settings.city.api_url).port or 8100
    env = child_env(
        {
            "CITYSIM_STEP_SECONDS": os.environ.get("CITYSIM_STEP_SECONDS", "5"),
            "CITYSIM_SUPPLEMENT_RATE": os.environ.get("CITYSIM_SUPPLEMENT_RATE", "0.1"),
            "CITYSIM_REFUSE_RATE": os.environ.get("CITYSIM_REFUSE_RATE", "0.05"),
            "CITYSIM_CLIENTS": f"{settings.city.client_id}:{settings.city.client_secret}",
            "CITYSIM_WEBHOOK_SECRET": settings.city.webhook_secret,
            "WORKER_METRICS_PORT": os.environ.get("WORKER_METRICS_PORT", "8300"),
        }
    )
    # The identity-provider simulator keeps its own demo tenants and users; the portal only
    # registers itself there as a client, with this run's redirect URIs (docs/idp-simulator.md).
    env["IDP_CLIENTS"] = json.dumps(
        {
            tenant: [
                {
                    "client_id": client_id,
                    "client_secret": secret,
                    "redirect_uris": [f"http://127.0.0.1:{args.port}/auth/sso/{code.lower()}/callback"],
                }
            ]
            for code, tenant, client_id, secret, _ in DEMO_SSO
        }
    )
    env["IDP_KEYS_DIR"] = str(settings.var_dir / "idp-keys")
    env["PORTAL_PUBLIC_URL"] = f"http://127.0.0.1:{args.port}"
    # The VNPay sandbox simulator knows this deployment's terminal and sends its IPNs to this portal.
    vnpay_port = urlparse(settings.vnpay.payment_url).port or 8320
    env["VNPAYSIM_MERCHANTS"] = json.dumps(
        [
            {
                "tmn_code": settings.vnpay.tmn_code,
                "hash_secret": settings.vnpay.hash_secret,
                "ipn_url": f"http://127.0.0.1:{args.port}/api/payments/vnpay/ipn",
                "name": "Cổng Đại lý Dịch vụ công (demo)",
            }
        ]
    )
    stack = Stack()
    logs = settings.var_dir
    clamd = _start_demo_clamd(settings)
    stack.processes["city"] = start_city_simulator(city_port, env, logs / "city-simulator.log")
    stack.processes["idp"] = start_identity_provider(idp_port, env, logs / "idp-simulator.log")
    stack.processes["vnpay"] = start_vnpay_simulator(vnpay_port, env, logs / "vnpay-simulator.log")
    sms_port = urlparse(settings.sms.api_url).port or DEMO_SMS_PORT
    env["SMSSIM_PORT"] = str(sms_port)
    stack.processes["sms"] = start_sms_gateway(sms_port, env, logs / "sms-simulator.log")
    stack.processes["mail"] = start_mail_server(settings.mail.port, logs / "mail", env, logs / "mail-server.log")
    stack.processes["worker"] = start_worker(env, logs / "worker.log")
    stack.processes["web"] = start_web(args.port, env, logs / "web.log")

    def stop(*_: object) -> None:
        stack.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        wait_for_http(f"http://127.0.0.1:{city_port}/healthz", process=stack.processes["city"])
        wait_for_http(f"http://127.0.0.1:{idp_port}/healthz", process=stack.processes["idp"])
        wait_for_http(f"http://127.0.0.1:{vnpay_port}/healthz", process=stack.processes["vnpay"])
        wait_for_http(f"http://127.0.0.1:{sms_port}/healthz", process=stack.processes["sms"])
        wait_for_smtp(settings.mail.port, process=stack.processes["mail"])
        wait_for_http(f"http://127.0.0.1:{args.port}/healthz", process=stack.processes["web"])
        print("\n  Agent Network Portal is running (demo mode)")
        print(f"  Portal:              http://127.0.0.1:{args.port}/")
        print(f"  API schema:          http://127.0.0.1:{args.port}/schema")
        if settings.admin.enabled:
            print(f"  Back office:         http://127.0.0.1:{args.port}/admin/ (center admin; auditor read-only)")
        print(f"  City simulator:      http://127.0.0.1:{city_port}/_sim/dossiers")
        print(f"  Identity provider:   http://127.0.0.1:{idp_port}/vnpost/.well-known/openid-configuration")
        print(f"  VNPay simulator:     http://127.0.0.1:{vnpay_port}/_sim/transactions")
        print(f"  SMS gateway:         http://127.0.0.1:{sms_port}/_sim/messages (texts sent to citizens)")
        print(f"  Mail to citizens:    {logs / 'mail'} (Maildir of the local SMTP server on port {settings.mail.port})")
        print(f"  Logs:                {logs}/*.log")
        print(
            f"  Metrics:             http://127.0.0.1:{args.port}/metrics (web), http://127.0.0.1:{env['WORKER_METRICS_PORT']}/metrics (worker)"
        )
        print(f"\n  Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            print(f"    {login.role:16} {login.email:32} {login.where}")
        print("\n  Partner single sign-on (password 'demo' at the identity provider):")
        print("    lan.nguyen@vnpost.vn (invited, VNPost) and hoa.le@viettelpost.com.vn (invited, Viettel Post)")
        print("    minh.tran@vnpost.vn exists at the provider but was not invited: refused")
        print("\n  Ctrl+C stops everything.\n", flush=True)
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1.0)
        dead = [name for name, p in stack.processes.items() if p.poll() is not None]
        print(f"portal demo: {', '.join(dead)} stopped unexpectedly; see {logs}", file=sys.stderr)
        raise SystemExit(1)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        stack.stop()
        if clamd is not None:
            clamd.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="portal", description="Agent Network Portal")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="set up and start everything on the embedded default, with demo data")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="run the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="web processes (metrics add up across them)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run a Celery worker with the periodic sweepers")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--no-beat", action="store_true", help="no periodic sweepers here (another worker runs them)")
    worker.set_defaults(func=cmd_worker)
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)
    sub.add_parser("seed", help="load the demo data (idempotent)").set_defaults(func=cmd_seed)
    audit = sub.add_parser("audit", help="audit log commands")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="verify the audit log's hash chain").set_defaults(func=cmd_audit_verify)
    args = parser.parse_args(argv)
    open_context(request_id=new_request_id())  # one id for the command's log lines and the tasks it sends
    args.func(args)


if __name__ == "__main__":
    main()
