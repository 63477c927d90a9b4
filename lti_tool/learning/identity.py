"""Link a learner's LMS account to their national ID for hour certification, and read their hours (issue #8 D6).

The ID number arrives in the LTI custom parameter `national_id` (with `agency_code`, the 10-character
機關代碼, for a person not yet known) or is entered once by the learner in the player. It is handed to
`lrs.certification.people.claim_actor`, which validates, encrypts and maps it; this module adds the
learner-facing rules: a number already linked to another account is refused with an explanation (only
certification staff can link a second account, except a second LMS vouching for it through the custom
parameter), and the number itself is never logged, never put in a URL and only ever shown masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lrs.certification import idno, ledger, people, reports
from lrs.certification import settings as certification
from lrs.certification.models import AuditEntry, Person
from lrs.certification.rules import TAIPEI
from lrs.db import utcnow
from lrs.errors import AppError, BadRequest, Conflict

ID_PARAM = "national_id"
AGENCY_PARAM = "agency_code"
SOURCE_LTI = "lti"
SOURCE_LEARNER = "learner"

# The ID checks' messages (lrs.certification.idno), listed so that the player can translate them.
ID_MESSAGES = (
    "The ID number is empty.",
    "The ID number's check digit does not match: check for a mistyped character.",
    "A national ID has 1 or 2 (a resident number 8 or 9) as its second character.",
    "Not a valid national ID, resident certificate or passport number (5-20 letters and digits).",
    "Not a valid national ID or resident certificate number (a letter, then 9 characters with a valid check digit).",
)
TAKEN = ("This ID number is already linked to another LMS account. If both accounts are yours, ask your agency's "
         "certification staff to link this one too; otherwise check the number you entered.")
TAKEN_SAME_LMS = ("This ID number is already linked to another account on this LMS, so it cannot be linked to this one "
                  "as well. Ask your agency's certification staff to check the link.")
OTHER_PERSON = ("This LMS account is already linked to a different ID number (%(masked)s). Ask your agency's "
                "certification staff to correct the link.")
NEED_AGENCY = "Give your agency code (機關代碼): 10 letters or digits, such as 379680000A."
NEED_NAME = "Give your name (姓名) as your agency records it, up to 60 characters."


DEFAULT_MAX_FAILURES = 5
REFUSED_ACTION = "id.claim.refused"
TOO_MANY = ("Too many refused attempts to link an ID number from this account in the last day. Ask your agency's "
            "certification staff to link it, or try again tomorrow.")


class TooManyClaims(AppError):
    """An account tried too many ID numbers that were refused (guessing whose numbers are registered)."""

    status = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Claimed:
    """The outcome of a claim: the person now linked, and whether this call made the link."""

    person: Person
    new_link: bool


def _allow_passport() -> bool:
    return certification.allow_passport()


def claim(session: Session, *, issuer: str, sub: str, id_number: str, name: str, agency_code: str,
          source: str) -> Claimed:
    """Link an LMS account (issuer + sub) to the person with this ID number, registering them if new.

    Refuses, saying why: a number failing its checksum; a number already linked to another account
    (for `source="lti"`, only another account on the same LMS); an account linked to a different number.
    The person's credits are recomputed at once so that earlier completions count.
    """
    limit = int(current_app.config.get("LEARNING_ID_MAX_FAILURES", DEFAULT_MAX_FAILURES))
    if recent_refusals(session, issuer, sub) >= limit:
        raise TooManyClaims(TOO_MANY)
    try:
        value, _kind = idno.classify(id_number, allow_passport=_allow_passport())
    except idno.InvalidIdNumber as err:
        raise BadRequest(str(err)) from None
    vault = certification.get_vault()
    mine = people.person_for_actor(session, issuer, sub)
    if mine is not None:
        if mine.id_lookup == vault.lookup_hash(value):
            return Claimed(mine, False)
        raise Conflict(OTHER_PERSON % {"masked": mine.id_masked}, details={"masked": mine.id_masked})
    owner = people.find_by_id_number(session, vault, value)
    if owner is not None:
        actors = people.actors_of(session, owner)
        if source == SOURCE_LEARNER and actors:
            raise Conflict(TAKEN)
        if any(link.home_page == issuer for link in actors):
            raise Conflict(TAKEN_SAME_LMS)
    else:
        if not name.strip() or len(name.strip()) > 60:
            raise BadRequest(NEED_NAME)
        agency = agency_code.strip().upper()
        if len(agency) != people.AGENCY_CODE_LEN or not agency.isalnum():
            raise BadRequest(NEED_AGENCY)
        agency_code = agency
    person = people.claim_actor(session, vault, home_page=issuer, account_name=sub, id_number=value, name=name.strip(),
                                agency_code=agency_code, allow_passport=_allow_passport(), source=source,
                                by=f"{source}:{sub}"[:80])
    ledger.recompute(session, None, person_ids=[person.id])
    return Claimed(person, True)


def _subject(issuer: str, sub: str) -> str:
    return f"{issuer}|{sub}"[:200]


def recent_refusals(session: Session, issuer: str, sub: str) -> int:
    """Count this account's refused claims in the last 24 hours (from the certification audit trail)."""
    since = utcnow() - dt.timedelta(days=1)
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == REFUSED_ACTION, AuditEntry.subject == _subject(issuer, sub), AuditEntry.at >= since))
    return int(count or 0)


def record_refusal(session: Session, issuer: str, sub: str, source: str, err: AppError) -> None:
    """Audit a refused claim (its reason only, never the number), unless it was refused for too many attempts."""
    if isinstance(err, TooManyClaims):
        return
    people.audit(session, f"{source}:{sub}"[:80], REFUSED_ACTION, _subject(issuer, sub), status=err.status)


def person_of(session: Session, issuer: str, sub: str) -> Person | None:
    """Return the person an LMS account is linked to, or None."""
    return people.person_for_actor(session, issuer, sub)


def hours_year(now: dt.datetime) -> int:
    """Return the certification year of a moment (R8: the calendar year in Taipei)."""
    return now.astimezone(TAIPEI).year


def transcript(session: Session, person: Person, now: dt.datetime) -> dict[str, Any]:
    """Return the learner's certified hours this year and their quota progress (R1, R3) with any R15 warning."""
    year = hours_year(now)
    return reports.transcript(session, person, year, certification.profile_book(), now.astimezone(TAIPEI).date(),
                              certification.holidays())
