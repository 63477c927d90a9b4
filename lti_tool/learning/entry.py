"""Land LTI launches in the learning area: learners in the player, course staff in the picker or overview.

The LTI core validates the launch and redirects here with its launch token (`lt`); this module
turns the launch context and its verified claims into an enrollment (resource links) or into the
catalog picker whose answer is a signed Deep Linking response (LTI Deep Linking 2.0 §4.2).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from lrs.db import get_session
from lrs.errors import AppError, BadRequest, Forbidden
from lti_tool.keys import get_keyring
from lti_tool.learning import deeplink, identity, service
from lti_tool.learning.tokens import player_token
from lti_tool.learning.views import bp, lti_id_problem_key, player_url
from lti_tool.lti import launch as lti_launch
from lti_tool.lti.claims import AGS_ENDPOINT, DEEP_LINKING_REQUEST, NRPS, RESOURCE_LINK_REQUEST, LaunchContext, ToolRole

STAFF_ROLES = (ToolRole.INSTRUCTOR, ToolRole.ADMINISTRATOR)


def launch_claims(context: LaunchContext) -> dict[str, Any]:
    """Return the verified claims of the current launch, kept by the LTI core."""
    claims: Any = lti_launch.message_launch(context).get_launch_data()
    return claims if isinstance(claims, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def learner_launch(context: LaunchContext, claims: dict[str, Any]) -> service.LearnerLaunch:
    """Map the LTI core's launch context and claims to what the player needs."""
    ags = _dict(claims.get(AGS_ENDPOINT))
    nrps = _dict(claims.get(NRPS))
    scopes: list[Any] = ags["scope"] if isinstance(ags.get("scope"), list) else []
    return service.LearnerLaunch(
        issuer=context.issuer, sub=context.subject, client_id=context.client_id, deployment_id=context.deployment_id,
        role=context.role.value, name=context.display_name if context.display_name != context.subject else "",
        email=context.email, locale=context.locale, platform_name=context.platform_name,
        context_id=context.context_id, context_title=context.context_title,
        resource_link_id=context.resource_link_id, resource_link_title=context.resource_link_title,
        custom=dict(context.custom),
        ags_scopes=tuple(s for s in scopes if isinstance(s, str)),
        ags_lineitems=_str(ags.get("lineitems")),
        ags_lineitem=_str(ags.get("lineitem")),
        nrps_url=_str(nrps.get("context_memberships_url")),
    )


@bp.get("/start")
@lti_launch.launch_required
def start() -> BaseResponse:
    """Enrol the launching person in the linked course and open the player (or the overview for staff)."""
    context = lti_launch.current_launch()
    assert context is not None
    launch = learner_launch(context, launch_claims(context))
    session = get_session()
    course = service.load_course(session, service.requested_course_code(launch))
    enrollment = service.enroll(session, launch, course)
    session.commit()
    if context.role in STAFF_ROLES:
        return redirect(url_for("learning.overview", token=player_token(enrollment.id, "instructor")), code=303)
    problem = claim_from_launch(session, launch)
    url = player_url(enrollment.id)
    return redirect(url + ("?" + urlencode({"lti_id": problem}) if problem else ""), code=303)


def claim_from_launch(session: Session, launch: service.LearnerLaunch) -> str | None:
    """Link the learner's account to the ID number in the `national_id` custom parameter, if any (issue #8 D6).

    A refused number never blocks the launch: the player shows why (by message key, never the number)
    and offers the learner's own entry instead.
    """
    number = launch.custom.get(identity.ID_PARAM, "").strip()
    if not number or number.startswith("$"):  # absent, or an LMS substitution variable it could not fill
        return None
    try:
        identity.claim(session, issuer=launch.issuer, sub=launch.sub, id_number=number, name=launch.name,
                       agency_code=launch.custom.get(identity.AGENCY_PARAM, ""), source=identity.SOURCE_LTI)
    except AppError as err:
        session.rollback()
        identity.record_refusal(session, launch.issuer, launch.sub, identity.SOURCE_LTI, err)
        session.commit()
        return lti_id_problem_key(err)
    session.commit()
    return None


def _picker_query() -> Any:
    from lti_tool.catalog import service as catalog

    args = {k: v for k, v in request.values.items() if k in {"q", "format", "category_code", "language", "page"}}
    return catalog.parse_query(args, strict=False, codes=catalog.category_codes(get_session()))


@bp.route("/deep-link", methods=["GET", "POST"])
@lti_launch.launch_required
def deep_link() -> BaseResponse:
    """Let course staff pick catalog courses and return them to the LMS (LTI Deep Linking 2.0)."""
    from lti_tool.catalog import service as catalog

    context = lti_launch.current_launch()
    assert context is not None
    if not context.is_deep_linking:
        raise BadRequest("This page answers deep-linking launches only; add the tool from your LMS's content picker.")
    if context.role not in STAFF_ROLES:
        raise Forbidden("Only course staff can add courses to an LMS course.")
    settings = deeplink.settings_from_claims(launch_claims(context))
    session = get_session()
    if request.method == "POST":
        codes = [code.strip().upper() for code in request.form.getlist("course") if code.strip()]
        if not codes:
            raise BadRequest("Choose at least one course to add.")
        if len(codes) > 1 and not settings.accept_multiple:
            raise BadRequest("Your LMS accepts one course at a time here: choose one.")
        if not settings.accepts_links:
            raise BadRequest("Your LMS does not accept LTI links from this placement; add the tool where activities are added.")
        launch_url = lti_launch.launch_endpoint_url()
        icon_url = lti_launch.tool_base_url() + url_for("learning.static", filename="course-icon.svg")
        items = []
        for code in dict.fromkeys(codes):
            course = catalog.get_published_course(session, code)
            picked = deeplink.PickedCourse(
                code=course.code,
                title=course.title_zh or course.title_en,
                text=course.title_en if course.title_zh else course.description_en[:300],
                hours=str(course.hours),
                signature=service.course_signature(course.code),
                icon_url=icon_url,
            )
            items.append(deeplink.content_item(picked, settings, launch_url))
        key = get_keyring().signing_key()
        claims = deeplink.response_claims(
            issuer=context.issuer, client_id=context.client_id, deployment_id=context.deployment_id,
            settings=settings, items=items,
        )
        token = deeplink.response_jwt(claims, key.private_pem, key.kid)
        page = render_template("learning/deeplink_return.html", return_url=settings.return_url, jwt=token,
                               count=len(items))
        return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})
    query = _picker_query()
    query.per_page = 20
    results = catalog.find_published(session, query)
    page = render_template("learning/deeplink_picker.html", results=results, query=query, settings=settings,
                           formats=("mooc", "talk", "recorded_lecture", "reading", "blended"))
    return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})


def register_targets(app: Flask) -> None:
    """Tell the LTI core where resource-link and deep-linking launches land."""
    lti_launch.register_launch_target(app, RESOURCE_LINK_REQUEST, "learning.start")
    lti_launch.register_launch_target(app, DEEP_LINKING_REQUEST, "learning.deep_link")
