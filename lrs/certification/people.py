"""Map LRS actors to people, with agency, staff category, 資安 role and the encrypted national ID (D6).

An actor is an xAPI account (platform homePage + account name, as the LTI tool writes it: the platform
issuer and the LTI `sub`). A person may have several actors (several LMSs); an actor belongs to one
person only, and an ID number to one person only: a second mapping is refused with an explanation.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import idno
from lrs.certification.models import ActorLink, AuditEntry, Person
from lrs.certification.rules import SecurityRole, StaffCategory
from lrs.db import utcnow
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.xapi.statements import agent_key

AGENCY_CODE_LEN = 10


def audit(session: Session, by: str, action: str, subject: str = "", **details: Any) -> None:
    """Record an audited action; callers pass masked IDs only."""
    session.add(AuditEntry(by=by or "system", action=action, subject=subject[:200],
                           details=json.dumps(details, ensure_ascii=False, default=str)))


def actor_key_for(home_page: str, account_name: str) -> str:
    """Return the LRS's identifier of an account actor (the same string the statement table indexes)."""
    key = agent_key({"account": {"homePage": home_page, "name": account_name}})
    assert key is not None
    return key


def _check_fields(name: str, agency_code: str, category: str, security_role: str) -> None:
    if not name.strip() or len(name) > 60:
        raise BadRequest("The person's name (姓名) is required, up to 60 characters.")
    if len(agency_code) != AGENCY_CODE_LEN or not agency_code.isalnum():
        raise BadRequest(f"An agency code (機關代碼) has 10 letters or digits, such as 379680000A; got {agency_code!r}.")
    if category not in {c.value for c in StaffCategory}:
        raise BadRequest(f"Staff category must be one of {', '.join(c.value for c in StaffCategory)}.")
    if security_role not in {r.value for r in SecurityRole}:
        raise BadRequest(f"資安 role must be one of {', '.join(r.value for r in SecurityRole)}.")


def register_person(
    session: Session,
    vault: idno.IdVault,
    *,
    name: str,
    agency_code: str,
    id_number: str,
    category: str = StaffCategory.PERMANENT.value,
    security_role: str = SecurityRole.GENERAL.value,
    allow_passport: bool = True,
    birthday: dt.date | None = None,
    by: str = "",
) -> Person:
    """Create a person after validating the ID; an ID already on file is refused (a person mapped twice)."""
    agency_code = agency_code.strip().upper()
    _check_fields(name, agency_code, category, security_role)
    try:
        sealed = vault.seal(id_number, allow_passport=allow_passport)
    except idno.InvalidIdNumber as err:
        raise BadRequest(f"ID number refused: {err}") from None
    existing = session.scalar(select(Person).where(Person.id_lookup == sealed.lookup))
    if existing is not None:
        raise Conflict(f"ID number {sealed.masked} already belongs to person #{existing.id} ({existing.name}, agency {existing.agency_code}); "
                       "update that person instead of adding a second one.")
    person = Person(name=name.strip(), agency_code=agency_code, category=category, security_role=security_role,
                    id_kind=sealed.kind.value, id_cipher=sealed.cipher, id_lookup=sealed.lookup, id_masked=sealed.masked,
                    birthday=birthday)
    session.add(person)
    session.flush()
    audit(session, by, "person.create", f"person #{person.id}", id=sealed.masked, agency=agency_code)
    return person


def update_person(session: Session, person: Person, *, name: str | None = None, agency_code: str | None = None,
                  category: str | None = None, security_role: str | None = None, by: str = "") -> Person:
    """Change a person's name, agency, staff category or 資安 role, audited."""
    new_name = person.name if name is None else name
    new_agency = person.agency_code if agency_code is None else agency_code.strip().upper()
    new_category = person.category if category is None else category
    new_role = person.security_role if security_role is None else security_role
    _check_fields(new_name, new_agency, new_category, new_role)
    changes = {k: v for k, v in {"name": new_name, "agency_code": new_agency, "category": new_category,
                                 "security_role": new_role}.items() if getattr(person, k) != v}
    for key, value in changes.items():
        setattr(person, key, value)
    if changes:
        person.updated_at = utcnow()
        audit(session, by, "person.update", f"person #{person.id}", **changes)
    return person


def link_actor(session: Session, person: Person, home_page: str, account_name: str, *, source: str = "staff", by: str = "") -> ActorLink:
    """Map an LRS account actor to a person; the same mapping again is a no-op, a different person is refused."""
    home_page, account_name = home_page.strip(), account_name.strip()
    if not home_page or not account_name or len(home_page) > 1024 or len(account_name) > 512:
        raise BadRequest("An actor is a platform homePage (an IRL, such as the LMS issuer) and an account name (the LTI sub).")
    key = actor_key_for(home_page, account_name)
    link = session.scalar(select(ActorLink).where(ActorLink.actor_key == key))
    if link is not None:
        if link.person_id == person.id:
            return link
        other = session.get(Person, link.person_id)
        raise Conflict(f"Account {account_name!r} on {home_page} is already mapped to person #{link.person_id}"
                       f" ({other.id_masked if other else 'unknown'}); an actor maps to one person only. Unlink it there first.")
    link = ActorLink(person_id=person.id, home_page=home_page, account_name=account_name, actor_key=key, source=source)
    session.add(link)
    session.flush()
    audit(session, by, "actor.link", f"person #{person.id}", home_page=home_page, account=account_name, source=source)
    return link


def unlink_actor(session: Session, home_page: str, account_name: str, *, by: str = "") -> None:
    """Remove an actor mapping, audited."""
    key = actor_key_for(home_page.strip(), account_name.strip())
    link = session.scalar(select(ActorLink).where(ActorLink.actor_key == key))
    if link is None:
        raise NotFound("That actor is not mapped to anyone.")
    audit(session, by, "actor.unlink", f"person #{link.person_id}", home_page=link.home_page, account=link.account_name)
    session.delete(link)


def find_by_id_number(session: Session, vault: idno.IdVault, id_number: str) -> Person | None:
    """Find a person by ID number through the keyed hash, without decrypting anything."""
    return session.scalar(select(Person).where(Person.id_lookup == vault.lookup_hash(id_number)))


def get_person(session: Session, person_id: int) -> Person:
    """Return a person or raise NotFound."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"No person #{person_id}.")
    return person


def person_dict(person: Person, actors: list[ActorLink] | None = None) -> dict[str, Any]:
    """Return a person as JSON-ready data, with the ID masked."""
    data: dict[str, Any] = {"id": person.id, "name": person.name, "agency_code": person.agency_code,
                            "category": person.category, "security_role": person.security_role,
                            "id_number": person.id_masked, "id_kind": person.id_kind}
    if actors is not None:
        data["actors"] = [{"home_page": a.home_page, "account_name": a.account_name, "source": a.source} for a in actors]
    return data


def actors_of(session: Session, person: Person) -> list[ActorLink]:
    """Return a person's actor mappings."""
    return list(session.scalars(select(ActorLink).where(ActorLink.person_id == person.id).order_by(ActorLink.id)))


def claim_actor(session: Session, vault: idno.IdVault, *, home_page: str, account_name: str, id_number: str, name: str,
                agency_code: str, allow_passport: bool = True, source: str = "lti", by: str = "") -> Person:
    """Map an actor to the person with this ID, registering them first if new (LTI custom parameter or learner entry).

    The number is validated before anything is stored; an actor already mapped to someone else is refused.
    """
    try:
        value, _kind = idno.classify(id_number, allow_passport=allow_passport)
    except idno.InvalidIdNumber as err:
        raise BadRequest(f"ID number refused: {err}") from None
    person = find_by_id_number(session, vault, value)
    if person is None:
        person = register_person(session, vault, name=name, agency_code=agency_code, id_number=value,
                                 allow_passport=allow_passport, by=by or source)
    link_actor(session, person, home_page, account_name, source=source, by=by or source)
    return person


def person_for_actor(session: Session, home_page: str, account_name: str) -> Person | None:
    """Return the person an LMS account is mapped to (for the learner's own hours page), or None."""
    link = session.scalar(select(ActorLink).where(ActorLink.actor_key == actor_key_for(home_page, account_name)))
    return None if link is None else session.get(Person, link.person_id)
