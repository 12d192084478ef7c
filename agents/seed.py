"""Demo data: the 7 Hanoi partners, their points in real wards, staff, the procedures.

Idempotent: running it again adds what is missing and changes nothing else.
Every demo account has the password DEMO_PASSWORD (demo mode only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerKind
from agents.partners.sso import configure_sso
from agents.points import rules as point_rules
from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures import publishing
from agents.procedures.catalogue import PROCEDURES
from agents.procedures.models import Procedure
from agents.procedures.rules import definition_problems
from agents.staff.actor import load_actor
from agents.staff.lifecycle import invite, open_invitation_for
from agents.staff.models import Account, AccountStatus, Role, RoleAssignment
from agents.staff.service import hash_password
from agents.wards.models import Ward
from agents.wards.service import find_ward
from portal.core import audit
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope

DEMO_PASSWORD = "demo1234"
DEMO_POPULATION = "demo"  # the population_source of made-up figures

# (code, name, kind, email domain, [(point code, name, address, ward, lat, lon), ...])
PARTNERS = [
    (
        "VNPOST",
        "Bưu điện Việt Nam (VNPost)",
        PartnerKind.post,
        "vnpost",
        [
            ("BD-HK", "Bưu điện Bờ Hồ", "75 Đinh Tiên Hoàng", "Phường Hoàn Kiếm", 21.0277, 105.8525),
            ("BD-BD", "Bưu điện Ba Đình", "2 Quán Thánh", "Phường Ba Đình", 21.0405, 105.8402),
            ("BD-CG", "Bưu điện Cầu Giấy", "168 Cầu Giấy", "Phường Cầu Giấy", 21.0336, 105.7985),
        ],
    ),
    (
        "VTPOST",
        "Viettel Post",
        PartnerKind.post,
        "viettelpost",
        [
            (
                "VTP-DD",
                "Viettel Post Đống Đa",
                "120 Tôn Đức Thắng",
                "Phường Văn Miếu - Quốc Tử Giám",
                21.0215,
                105.8335,
            ),
            ("VTP-HD", "Viettel Post Hà Đông", "56 Quang Trung", "Phường Hà Đông", 20.9700, 105.7760),
        ],
    ),
    (
        "FPTSHOP",
        "FPT Retail (FPT Shop)",
        PartnerKind.retail,
        "fptshop",
        [
            ("FPT-TX", "FPT Shop Thanh Xuân", "231 Nguyễn Trãi", "Phường Thanh Xuân", 20.9960, 105.8080),
            ("FPT-LB", "FPT Shop Long Biên", "390 Nguyễn Văn Cừ", "Phường Bồ Đề", 21.0440, 105.8770),
        ],
    ),
    (
        "VNPT",
        "VNPT Hà Nội",
        PartnerKind.telco,
        "vnpt",
        [
            (
                "VNPT-HBT",
                "Điểm giao dịch VNPT Hai Bà Trưng",
                "92 Lê Đại Hành",
                "Phường Hai Bà Trưng",
                21.0110,
                105.8480,
            ),
            ("VNPT-TH", "Điểm giao dịch VNPT Tây Hồ", "55 Xuân Diệu", "Phường Tây Hồ", 21.0650, 105.8260),
        ],
    ),
    (
        "MOBIFONE",
        "MobiFone",
        PartnerKind.telco,
        "mobifone",
        [
            ("MBF-HM", "Cửa hàng MobiFone Hoàng Mai", "500 Giải Phóng", "Phường Tương Mai", 20.9880, 105.8410),
            ("MBF-DC", "Cửa hàng MobiFone Định Công", "12 Kim Đồng", "Phường Định Công", 20.9840, 105.8300),
        ],
    ),
    (
        "VTSTORE",
        "Viettel Store",
        PartnerKind.retail,
        "viettelstore",
        [
            ("VTS-LA", "Viettel Store Láng", "1105 Đường Láng", "Phường Láng", 21.0240, 105.8050),
            ("VTS-ND", "Viettel Store Nghĩa Đô", "95 Hoàng Quốc Việt", "Phường Nghĩa Đô", 21.0460, 105.7990),
        ],
    ),
    (
        "BIDV",
        "Ngân hàng BIDV",
        PartnerKind.bank,
        "bidv",
        [
            ("BIDV-CN", "BIDV Cửa Nam", "194 Trần Quang Khải", "Phường Cửa Nam", 21.0230, 105.8450),
            ("BIDV-YH", "BIDV Yên Hòa", "263 Cầu Giấy", "Phường Yên Hòa", 21.0250, 105.7900),
        ],
    ),
]

FIRST_NAMES = [
    "Nguyễn Thị Lan",
    "Trần Văn Minh",
    "Lê Thu Hà",
    "Phạm Quốc Huy",
    "Hoàng Mai Anh",
    "Vũ Đức Thắng",
    "Đỗ Thanh Hương",
]
MANAGER_NAMES = [
    "Bùi Văn Nam",
    "Đặng Thị Hoa",
    "Ngô Minh Tuấn",
    "Dương Thu Trang",
    "Lý Quang Vinh",
    "Trịnh Thị Ngọc",
    "Phan Văn Dũng",
]


# (partner code, IdP simulator tenant, client id, client secret, [(invited email, name, point code), ...])
DEMO_SSO = [
    (
        "VNPOST",
        "vnpost",
        "portal-vnpost",
        "portal-vnpost-secret",
        [("lan.nguyen@vnpost.vn", "Nguyễn Thị Lan", "BD-HK")],
    ),
    (
        "VTPOST",
        "viettelpost",
        "portal-viettelpost",
        "portal-viettelpost-secret",
        [("hoa.le@viettelpost.com.vn", "Lê Thị Hoa", "VTP-DD")],
    ),
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    where: str


def _account(session: Session, email: str, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        account = Account(
            email=email, full_name=name, password_hash=hash_password(DEMO_PASSWORD), status=AccountStatus.active
        )
        session.add(account)
        session.flush()
        audit.record(session, "account.created", "account", account.id, detail={"email": email, "by": "seed"})
    return account


def _grant(session: Session, account: Account, role: Role, partner: Partner | None, point: AgentPoint | None) -> None:
    exists = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.account_id == account.id,
            RoleAssignment.role == role,
            RoleAssignment.partner_id == (partner.id if partner else None),
        )
    )
    if exists is None:
        session.add(
            RoleAssignment(
                account_id=account.id,
                role=role,
                partner_id=partner.id if partner else None,
                agent_point_id=point.id if point else None,
            )
        )


def seed_procedures(session: Session) -> None:
    """Publish the catalogue; a procedure seeded earlier whose version in force says something else gets a
    new version with the catalogue's current definition (older dossiers keep theirs)."""
    for data in PROCEDURES:
        problems = definition_problems(data["form_schema"])
        if problems:
            raise ValueError(f"procedure {data['code']}: " + "; ".join(problems))
        procedure = session.scalar(select(Procedure).where(Procedure.code == data["code"]))
        if procedure is not None and publishing.same_content(procedure.current, data):
            continue
        publishing.publish(session, None, {**data, "change_note": "Danh mục mẫu (seed)"})


def enable_catalogue(session: Session, partner: Partner) -> None:
    """The demo's partners file every procedure of the catalogue (what the center would enable for them)."""
    publishing.enable_procedures(session, None, partner.id, [data["code"] for data in PROCEDURES])


def _seed_point_details(session: Session, point: AgentPoint) -> None:
    """The demo point's ward code, usual week and every published procedure (where not set yet)."""
    if point.ward_code is None:
        found = find_ward(session, point.ward)
        point.ward_code = found.code if found else None
    if point.weekly_hours is None:
        point.weekly_hours = {day: [list(p) for p in periods] for day, periods in point_rules.USUAL_WEEK.items()}
        point.opening_hours = point_rules.summary(point.weekly_hours)
    offered = set(session.scalars(select(PointProcedure.procedure_id).where(PointProcedure.agent_point_id == point.id)))
    if not offered:
        for procedure in session.scalars(select(Procedure).where(Procedure.published.is_(True))):
            session.add(PointProcedure(partner_id=point.partner_id, agent_point_id=point.id, procedure_id=procedure.id))
    session.flush()


def seed_demo_population(session: Session) -> None:
    """Made-up ward populations for the demo's coverage map, marked "demo" (no package has the real ones)."""
    for ward in session.scalars(select(Ward).where(Ward.population.is_(None))):
        density = 20_000 if ward.kind == "phuong" else 1_500  # people per km², a round guess
        ward.population = int(round((ward.area_km2 or 5.0) * density, -2))
        ward.population_source = DEMO_POPULATION


DEMO_PENDING_POINT = "CHO-DUYET"


def seed_demo() -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    with unit_of_work(Scope.network("demo seed", actor_label="seed", origin="cli")) as session:
        seed_procedures(session)
        session.flush()
        seed_demo_population(session)
        for index, (code, name, kind, domain, points) in enumerate(PARTNERS):
            partner = session.scalar(select(Partner).where(Partner.code == code))
            if partner is None:
                partner = Partner(code=code, name=name, kind=kind)
                session.add(partner)
                session.flush()
                audit.record(
                    session,
                    "partner.onboarded",
                    "partner",
                    partner.id,
                    partner_id=partner.id,
                    detail={"code": code, "by": "seed"},
                )
            enable_catalogue(session, partner)
            point_rows = []
            for p_code, p_name, address, ward, lat, lon in points:
                point = session.scalar(
                    select(AgentPoint).where(AgentPoint.partner_id == partner.id, AgentPoint.code == p_code)
                )
                if point is None:
                    point = AgentPoint(
                        partner_id=partner.id,
                        code=p_code,
                        name=p_name,
                        address=f"{address}, Hà Nội",
                        ward=ward,
                        latitude=lat,
                        longitude=lon,
                        status=AgentPointStatus.approved,
                    )
                    session.add(point)
                    session.flush()
                _seed_point_details(session, point)
                point_rows.append(point)
            if (
                index == 0
                and session.scalar(
                    select(AgentPoint.id).where(
                        AgentPoint.partner_id == partner.id, AgentPoint.code == DEMO_PENDING_POINT
                    )
                )
                is None
            ):
                # One point waiting for the center: the back office's "Duyệt điểm" form has something to approve.
                session.add(
                    AgentPoint(
                        partner_id=partner.id,
                        code=DEMO_PENDING_POINT,
                        name=f"{name} — điểm mới (chờ duyệt)",
                        address="18 Lý Thường Kiệt, Hà Nội",
                        ward="Phường Cửa Nam",
                        latitude=21.0245,
                        longitude=105.8490,
                        opening_hours="T2–T6 8:00–17:00",
                        status=AgentPointStatus.pending,
                    )
                )
                session.flush()
            staff = _account(session, f"nhanvien@{domain}.demo.vn", FIRST_NAMES[index])
            _grant(session, staff, Role.agent_staff, partner, point_rows[0])
            manager = _account(session, f"quanly@{domain}.demo.vn", MANAGER_NAMES[index])
            _grant(session, manager, Role.partner_manager, partner, None)
            logins.append(DemoLogin("agent staff", staff.email, point_rows[0].name))
            logins.append(DemoLogin("partner manager", manager.email, partner.name))
        admin = _account(session, "admin@trungtam.demo.vn", "Nguyễn Hữu Trung")
        _grant(session, admin, Role.center_admin, None, None)
        _seed_demo_sso(session, admin)
        auditor = _account(session, "kiemtoan@trungtam.demo.vn", "Mai Thị Kiểm")
        _grant(session, auditor, Role.auditor, None, None)
        logins.append(DemoLogin("center admin", admin.email, "Trung tâm Phục vụ hành chính công"))
        logins.append(DemoLogin("auditor", auditor.email, "Trung tâm Phục vụ hành chính công"))
        session.flush()
        staff_ids = [
            session.scalar(select(Account.id).where(Account.email == login.email))
            for login in logins
            if login.role == "agent staff"
        ]
    for account_id in staff_ids:
        _seed_sample_dossiers(account_id)
    return logins


def _seed_demo_sso(session: Session, admin: Account) -> None:
    """Point VNPost and Viettel Post at the IdP simulator; invite one SSO user each (idempotent)."""
    idp = os.environ.get("IDP_PUBLIC_URL", "http://127.0.0.1:8200").rstrip("/")
    session.flush()
    center = load_actor(session, admin.id)
    assert center is not None
    for code, tenant, client_id, secret, invitees in DEMO_SSO:
        partner = session.scalar(select(Partner).where(Partner.code == code))
        assert partner is not None
        if (partner.oidc_issuer, partner.oidc_client_id) != (f"{idp}/{tenant}", client_id):
            configure_sso(session, center, partner.id, f"{idp}/{tenant}", client_id, secret)
        for email, name, point_code in invitees:
            point = session.scalar(
                select(AgentPoint).where(AgentPoint.partner_id == partner.id, AgentPoint.code == point_code)
            )
            assert point is not None
            if (
                session.scalar(select(Account.id).where(Account.email == email)) is None
                and open_invitation_for(session, email, partner.id) is None
            ):
                invite(
                    session,
                    center,
                    email=email,
                    full_name=name,
                    role=Role.agent_staff,
                    partner_id=partner.id,
                    agent_point_id=point.id,
                )


SAMPLE_CITIZENS = [
    ("Trần Văn Bình", "001085004321", "1985-03-12", "0912300001", "18 Hàng Bông, Hà Nội"),
    ("Phạm Thị Mai", "001192007654", "1992-08-25", "0983400002", "7 Kim Mã, Hà Nội"),
]


def _seed_sample_dossiers(account_id: object) -> None:
    """Two dossiers per partner so the demo's pages and figures are not empty.

    They are filed through the same service as the counter (deterministic
    idempotency keys: seeding again files nothing new), so the demo worker
    forwards them to the city simulator like any other.
    """
    from agents.dossiers.filing import FilingRequest, file_dossier
    from agents.staff.actor import load_actor

    with read_only(Scope.network("demo seed: load staff", actor_label="seed", origin="cli")) as session:
        actor = load_actor(session, account_id)  # type: ignore[arg-type]
    if actor is None:
        return
    partner_id = actor.partner_ids[0]
    point_id = next(iter(actor.point_ids(partner_id)))
    forms: list[tuple[str, dict[str, Any]]] = [
        ("2.000815", {"document_name": "Bằng tốt nghiệp trung học phổ thông", "pages": 1, "copies": 2}),
        ("1.004194", {"temporary_address": "25 Lý Thường Kiệt, Hà Nội", "from_date": "2026-11-01"}),
    ]
    with unit_of_work(actor.partner_scope(partner_id, origin="cli")) as session:
        for index, ((code, form), person) in enumerate(zip(forms, SAMPLE_CITIZENS, strict=False)):
            name, id_number, born, phone, address = person
            file_dossier(
                session,
                actor,
                FilingRequest(
                    procedure_code=code,
                    agent_point_id=point_id,
                    idempotency_key=f"demo-seed-{partner_id}-{index}",
                    citizen={
                        "owner_full_name": name,
                        "owner_id_number": id_number,
                        "owner_birth_date": born,
                        "owner_phone": phone,
                        "owner_address": address,
                    },
                    form=form,
                ),
            )
