"""Every URL of the portal: one controller per area (see each module for its paths)."""

from portal.controllers.api import ApiController
from portal.controllers.api_clients import ApiClientController
from portal.controllers.api_drafts import DraftApiController
from portal.controllers.attention import AttentionController
from portal.controllers.audit import AuditController
from portal.controllers.auth import AuthController
from portal.controllers.catalogue import CatalogueController
from portal.controllers.coverage import CoverageController
from portal.controllers.dashboards import DashboardController
from portal.controllers.dossiers import DossierController
from portal.controllers.health import HealthController
from portal.controllers.locator import LocatorController
from portal.controllers.metrics import MetricsController
from portal.controllers.partners import PartnerController
from portal.controllers.payments import PaymentController
from portal.controllers.performance import PerformanceController
from portal.controllers.points import PointController, PointSheetController
from portal.controllers.problems import ProblemController
from portal.controllers.public import PublicController
from portal.controllers.ratings import RatingController
from portal.controllers.sso import SsoController
from portal.controllers.staff import StaffController
from portal.controllers.transparency import TransparencyController

ROUTES = [
    PublicController,
    LocatorController,
    AuthController,
    SsoController,
    DossierController,
    AttentionController,
    DashboardController,
    StaffController,
    PartnerController,
    CatalogueController,
    PointController,
    PointSheetController,
    CoverageController,
    AuditController,
    ApiController,
    DraftApiController,
    HealthController,
    MetricsController,
    ApiClientController,
    PaymentController,
    RatingController,
    ProblemController,
    PerformanceController,
    TransparencyController,
]
