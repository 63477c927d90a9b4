"""Store staff accounts: administrators, curators and certification staff."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from lrs.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a staff account may do; an account may hold several roles."""

    ADMINISTRATOR = "administrator"
    CURATOR = "curator"
    CERTIFICATION = "certification"


class StaffUser(Base):
    """A local staff account with a hashed password."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles_text: Mapped[str] = mapped_column("roles", String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or disable, so that existing sessions stop working at once.
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def roles(self) -> frozenset[Role]:
        """Return the account's roles."""
        return frozenset(Role(name) for name in self.roles_text.split() if name)

    @roles.setter
    def roles(self, roles: set[Role] | frozenset[Role]) -> None:
        self.roles_text = " ".join(sorted(role.value for role in roles))

    def has_role(self, *wanted: Role) -> bool:
        """Tell whether the account holds any of the roles; administrators hold every role."""
        held = self.roles
        return Role.ADMINISTRATOR in held or any(role in held for role in wanted)
