"""Store platform registrations and their deployments (LTI Core 1.3 §3.1.3, §3.1.2)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lrs.db import Base, UTCDateTime, utcnow


class RegistrationStatus(enum.StrEnum):
    """Whether launches from a registration are accepted."""

    ACTIVE = "active"
    PENDING = "pending"
    DISABLED = "disabled"


class RegistrationSource(enum.StrEnum):
    """How a registration was made."""

    MANUAL = "manual"
    DYNAMIC = "dynamic"
    DEMO = "demo"


class LtiRegistration(Base):
    """One OAuth client of one platform issuer; an issuer may hold several client ids."""

    __tablename__ = "lti_registration"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registration_issuer_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    product_family: Mapped[str] = mapped_column(String(100), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000), default="")
    auth_audience: Mapped[str] = mapped_column(String(1000), default="")
    jwks_url: Mapped[str] = mapped_column(String(1000), default="")
    # A platform that publishes no JWKS URL may give its public key set here instead (JSON).
    platform_jwks: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=RegistrationStatus.ACTIVE.value)
    source: Mapped[str] = mapped_column(String(20), default=RegistrationSource.MANUAL.value)
    # What the platform answered to a dynamic registration (JSON), kept for administrators.
    platform_response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="LtiDeployment.deployment_id",
        lazy="selectin",
    )

    @property
    def is_active(self) -> bool:
        """Tell whether launches are accepted."""
        return self.status == RegistrationStatus.ACTIVE.value

    @property
    def deployment_ids(self) -> list[str]:
        """Return the registered deployment ids."""
        return [deployment.deployment_id for deployment in self.deployments]


class LtiDeployment(Base):
    """One deployment of the tool within a registration (LTI Core 1.3 §3.1.3)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id",
                                       name="uq_lti_deployment_registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[LtiRegistration] = relationship(back_populates="deployments")
