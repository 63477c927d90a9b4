"""Staff accounts, roles and login: the one mechanism behind every admin page of both apps."""

from lrs.staff.auth import staff_required
from lrs.staff.models import Role, StaffUser

__all__ = ["Role", "StaffUser", "staff_required"]
