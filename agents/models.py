"""Every model of the project, imported in one place (Alembic, mappers)."""

from agents.api_clients.models import ApiClient, ApiClientStatus, ApiToken
from agents.documents.models import DossierDocument
from agents.dossiers.models import (
    CitizenConsent,
    CityRequest,
    CityStatus,
    Dossier,
    DossierDraft,
    DossierEvent,
    DossierState,
    DraftState,
    FollowUp,
    IdentityCheck,
)
from agents.notifications.models import Notification
from agents.partners.models import Partner, PartnerKind, PartnerStatus
from agents.points.models import AgentPoint, AgentPointStatus, PointClosure, PointProcedure
from agents.problems.models import ProblemMessage, ProblemReport
from agents.procedures.models import CalendarOverride, PartnerProcedure, Procedure, ProcedureVersion
from agents.ratings.models import Rating, RatingFlag
from agents.reporting.models import (
    CounterTimeFigures,
    ExportJob,
    OpenDueFigures,
    PointDayFigures,
    RatingDayFigures,
)
from agents.staff.models import Account, AccountStatus, Invitation, Role, RoleAssignment, SignInSession
from agents.wards.models import Ward
from portal.core.audit import AuditEvent
from portal.core.throttle import ThrottleCounter

__all__ = [
    "Account",
    "AccountStatus",
    "AgentPoint",
    "AgentPointStatus",
    "ApiClient",
    "ApiClientStatus",
    "ApiToken",
    "AuditEvent",
    "CalendarOverride",
    "CitizenConsent",
    "CityRequest",
    "CityStatus",
    "CounterTimeFigures",
    "Dossier",
    "DossierDocument",
    "DossierDraft",
    "DossierEvent",
    "DossierState",
    "DraftState",
    "ExportJob",
    "FollowUp",
    "IdentityCheck",
    "Invitation",
    "Notification",
    "OpenDueFigures",
    "Partner",
    "PartnerKind",
    "PartnerProcedure",
    "PartnerStatus",
    "PointClosure",
    "PointDayFigures",
    "PointProcedure",
    "ProblemMessage",
    "ProblemReport",
    "Procedure",
    "ProcedureVersion",
    "Rating",
    "RatingDayFigures",
    "RatingFlag",
    "Role",
    "RoleAssignment",
    "SignInSession",
    "ThrottleCounter",
    "Ward",
]

# The rollups listen to every flush once the models are known (agents/reporting/rollups.py).
import agents.reporting.rollups  # noqa: F401
