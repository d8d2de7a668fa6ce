"""Every model, imported once so Alembic's autogenerate sees the whole schema."""
from ecolife.actions.models import Action  # noqa: F401
from ecolife.audit.models import AuditEntry  # noqa: F401
from ecolife.auth.models import RefreshToken, WebSession  # noqa: F401
from ecolife.badges.models import Badge, UserBadge  # noqa: F401
from ecolife.codes.models import QrCode  # noqa: F401
from ecolife.communities.models import Community  # noqa: F401
from ecolife.idempotency.models import IdempotencyKey  # noqa: F401
from ecolife.impact.models import ImpactTotal  # noqa: F401
from ecolife.points.models import LedgerEntry, LotDebit, PointLot  # noqa: F401
from ecolife.rewards.models import Redemption, Reward  # noqa: F401
from ecolife.scans.models import Scan  # noqa: F401
from ecolife.shops.models import Shop  # noqa: F401
from ecolife.users.models import User  # noqa: F401
