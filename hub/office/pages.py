"""The back office's pages under ``/office/``: server-rendered HTML, forms, no script at all.

Every page but the login needs a session (a cookie naming a row of ``office_sessions``); every form
carries a CSRF token (the session's, or for the login form a double-submit cookie) and a POST
without it is refused; every page answers with a Content-Security-Policy that allows no script and
no inline style. Each action is written to the office audit in the same transaction as the change.

No ``from __future__ import annotations`` here: FastAPI reads the routes' ``Annotated`` dependencies,
which name closures of ``office_router``, at definition time.
"""

import datetime as dt
import secrets
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from hub import documents
from hub.http import Refused, read_capped
from hub.keys import HubKeys
from hub.models import HubState
from hub.office import audit, charts, texts
from hub.office.accounts import Accounts, LoginRefused, Role
from hub.office.admin import (
    catalogue_services,
    catalogue_upload,
    check_draft,
    publish_draft,
)
from hub.office.sessions import COOKIE, LIFETIME, OfficeSessions, Session, csrf_ok
from hub.office.views import (
    Figures,
    Filters,
    choices,
    citizen_name,
    figures,
    find_requests,
    fleet_health,
    kiosk_history,
    open_request,
    request_facts,
)
from hub.presence import PresenceVerifier
from hub.status_page import service_reasons, service_titles, service_words
from hub.store import HubDatabase

PREFIX = "/office"
LOGIN_CSRF_COOKIE = "office_login_csrf"
LANG_COOKIE = "office_lang"
MAX_FORM_BYTES = 16 * 1024
STATIC = Path(__file__).with_name("static")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates" / "office"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
CHANGES = (HubState.IN_PROGRESS, HubState.CLOSED, HubState.REJECTED)


class NeedsLogin(Exception):
    """No live session: the browser goes to the login page."""


class Forbidden(Exception):
    """The signed-in user's role does not allow this page (or the form lacked its CSRF token: ``message``)."""

    def __init__(self, message: str = "forbidden") -> None:
        super().__init__(message)
        self.message = message


def language_of(request: Request) -> str:
    """The interface language: ``?lang=``, else the cookie, else Georgian."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ka"
    return asked if asked in texts.LANGUAGES else "ka"


async def form_body(request: Request) -> dict[str, str]:
    """A small urlencoded form (at most 16 KB), one value per field."""
    body = await read_capped(request, MAX_FORM_BYTES)
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def office_router(store: HubDatabase, keys: HubKeys, presence: PresenceVerifier | None, *,
                  secure_cookies: bool) -> APIRouter:
    """The ``/office`` pages for this hub."""
    accounts = Accounts(store, keys)
    sessions = OfficeSessions(store, accounts)
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        lang = language_of(request)

        def tr(key: str, **params: object) -> str:
            return texts.t(lang, key, **params)

        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        values.setdefault("user", None)
        values.setdefault("session", None)
        html = _TEMPLATES.get_template(template).render(
            tr=tr, lang=lang, languages=texts.LANGUAGE_NAMES, here=here, prefix=PREFIX,
            with_lang=lambda code: _with_lang(request, code), **values)
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if request.query_params.get("lang") in texts.LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict",
                                secure=secure_cookies, path=PREFIX)
        return response

    def reasons_of(service_id: str) -> dict[str, dict[str, str]]:
        return texts.reasons_for(service_reasons(store, service_id))

    def session_of(request: Request) -> Session:
        session = sessions.find(request.cookies.get(COOKIE))
        if session is None:
            raise NeedsLogin()
        return session

    def needs(*roles: Role) -> Callable[[Request], Session]:
        def check(request: Request) -> Session:
            session = session_of(request)
            if not session.user.may(*roles):
                with store.write() as db:
                    audit.record(db, store.now(), session.user.username, "refused", request.url.path)
                raise Forbidden()
            return session
        return check

    def posted(session: Session, form: dict[str, str]) -> None:
        if not csrf_ok(session, form.get("csrf")):
            raise Forbidden("csrf")

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in ("office.css",):
            raise Refused(404, "not_found")
        return FileResponse(STATIC / name, media_type="text/css",
                            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    @router.get("/")
    def home(request: Request) -> Response:
        session = sessions.find(request.cookies.get(COOKIE))
        if session is None:
            return RedirectResponse(f"{PREFIX}/login", 303)
        first = {Role.TECHNICIAN: "fleet", Role.SUPERVISOR: "figures"}.get(session.user.role, "requests")
        return RedirectResponse(f"{PREFIX}/{first}", 303)

    @router.get("/login")
    def login_page(request: Request, problem: str = "", minutes: int = 0) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", problem=problem if problem in _LOGIN_PROBLEMS else "",
                          minutes=minutes, csrf=token)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                            secure=secure_cookies, path=PREFIX)
        return response

    @router.post("/login")
    def login(request: Request, form: Annotated[dict[str, str], Depends(form_body)]) -> Response:
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
            raise Forbidden("csrf")
        username = form.get("username", "").strip()[:64]
        try:
            user = accounts.login(username, form.get("password", ""), form.get("totp") or None)
        except LoginRefused as exc:
            with store.write() as db:
                audit.record(db, store.now(), username or "-", "login_refused", None, {"reason": exc.reason})
            query = urllib.parse.urlencode({"problem": exc.reason, "minutes": exc.minutes})
            return RedirectResponse(f"{PREFIX}/login?{query}", 303)
        token = sessions.open(user)
        with store.write() as db:
            audit.record(db, store.now(), user.username, "login")
        response = RedirectResponse(f"{PREFIX}/", 303)
        response.set_cookie(COOKIE, token, max_age=int(LIFETIME.total_seconds()), httponly=True, samesite="strict",
                            secure=secure_cookies, path=PREFIX)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        return response

    @router.post("/logout")
    def logout(request: Request, form: Annotated[dict[str, str], Depends(form_body)],
               session: Annotated[Session, Depends(session_of)]) -> Response:
        posted(session, form)
        sessions.end(request.cookies.get(COOKIE))
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "logout")
        response = RedirectResponse(f"{PREFIX}/login", 303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @router.get("/requests")
    def requests_page(request: Request, session: Annotated[Session, Depends(needs(Role.CLERK))]) -> Response:
        q = request.query_params
        filters = Filters(centre=q.get("centre", ""), service=q.get("service", ""),
                          state=q.get("state", "") if q.get("state") in {s.value for s in HubState} else "",
                          day_from=_day(q.get("from")), day_to=_day(q.get("to")), receipt=q.get("receipt", ""))
        found = find_requests(store, filters)
        lists = choices(store)
        lang = language_of(request)
        named = service_titles(store, lang)
        titles = {sid: named.get(sid, sid) for sid in {*lists["services"], *(r["service"] for r in found)}}
        return render(request, "requests.html", session=session, user=session.user, found=found, filters=filters,
                      states=[s.value for s in HubState], centres=lists["centres"], services=lists["services"],
                      titles=titles)

    @router.get("/requests/{kiosk_id}/{request_id}")
    def request_page(request: Request, kiosk_id: str, request_id: str,
                     session: Annotated[Session, Depends(needs(Role.CLERK))], done: str = "",
                     conflict: str = "") -> Response:
        opened = open_request(store, keys, presence, kiosk_id, request_id)
        if opened is None:
            return render(request, "message.html", status=404, session=session, user=session.user, message="not_found")
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "open", f"{kiosk_id}/{request_id}")
        title, labels, options = service_words(store, str(opened.facts["service"]), language_of(request))
        answers = [(labels.get(k, k), options.get(f"{k}={v}", v)) for k, v in opened.answers]
        return render(request, "request.html", session=session, user=session.user, r=opened, title=title,
                      answers=answers,
                      name=citizen_name(opened.payload), changes=[s.value for s in CHANGES],
                      reasons=[(code, words.get(language_of(request)) or words["ka"])
                               for code, words in reasons_of(opened.facts["service"]).items()],
                      done=done if done in _STATES else "",
                      conflict=conflict if conflict in _STATES else "", need_reason=bool(request.query_params.get(
                          "need_reason")))

    @router.post("/requests/{kiosk_id}/{request_id}")
    def change(kiosk_id: str, request_id: str, form: Annotated[dict[str, str], Depends(form_body)],
               session: Annotated[Session, Depends(needs(Role.CLERK))]) -> Response:
        posted(session, form)
        from hub import backoffice

        here = f"{PREFIX}/requests/{urllib.parse.quote(kiosk_id)}/{urllib.parse.quote(request_id)}"
        try:
            state = HubState(form.get("state", ""))
        except ValueError:
            raise Refused(400, "bad_state") from None
        if state not in CHANGES:
            raise Refused(400, "bad_state")
        seen = form.get("seen", "")
        expect = int(seen) if seen.isdigit() else None
        reason = None
        code = form.get("reason", "")
        if state is HubState.REJECTED:
            facts = request_facts(store, kiosk_id, request_id)
            if facts is None:
                raise Refused(404, "not_found")
            reasons = reasons_of(facts["service"])
            if code not in reasons:
                return RedirectResponse(f"{here}?need_reason=1", 303)
            reason = texts.reason_text(reasons, code, facts["language"])
        who = session.user.username

        def log(db: Any) -> None:
            audit.record(db, store.now(), who, f"state:{state.value}", f"{kiosk_id}/{request_id}",
                         {"reason": code} if reason else None)

        try:
            backoffice.set_status(store, request_id, state, reason, kiosk_id, expect_seq=expect, also=log)
        except backoffice.StatusConflict as exc:
            return RedirectResponse(f"{here}?conflict={exc.state}", 303)
        except backoffice.UnknownSubmission:
            raise Refused(404, "not_found") from None
        return RedirectResponse(f"{here}?done={state.value}", 303)

    @router.get("/fleet")
    def fleet_page(request: Request, session: Annotated[Session, Depends(needs(Role.TECHNICIAN))]) -> Response:
        lang = language_of(request)
        return render(request, "fleet.html", session=session, user=session.user, kiosks=fleet_health(store),
                      age_words=lambda seconds: _age(lang, seconds), problem_text=_problem_text(lang), code="")

    @router.get("/fleet/{kiosk_id}")
    def kiosk_page(request: Request, kiosk_id: str, session: Annotated[Session, Depends(needs(Role.TECHNICIAN))],
                   revoked: str = "") -> Response:
        lang = language_of(request)
        found = next((k for k in fleet_health(store) if k.row["kiosk_id"] == kiosk_id), None)
        if found is None:
            return render(request, "message.html", status=404, session=session, user=session.user,
                          message="not_found")
        end = store.clock()
        start = end - dt.timedelta(hours=48)
        chart = charts.timeline(kiosk_history(store, kiosk_id, start), title=texts.t(lang, "kiosk.history"),
                                start=start, end=end)
        return render(request, "kiosk.html", session=session, user=session.user, k=found, chart=Markup(chart),
                      problem_text=_problem_text(lang), age_words=lambda seconds: _age(lang, seconds),
                      revoked_now=bool(revoked))

    @router.post("/fleet/{kiosk_id}/revoke")
    def revoke(kiosk_id: str, form: Annotated[dict[str, str], Depends(form_body)],
               session: Annotated[Session, Depends(needs(Role.TECHNICIAN))]) -> Response:
        posted(session, form)
        here = f"{PREFIX}/fleet/{urllib.parse.quote(kiosk_id)}"
        if form.get("confirm") != "yes":
            return RedirectResponse(here, 303)
        from hub import enrolment

        if enrolment.revoke(store, kiosk_id):
            with store.write() as db:
                audit.record(db, store.now(), session.user.username, "kiosk:revoke", kiosk_id)
        return RedirectResponse(f"{here}?revoked=1", 303)

    @router.post("/fleet-code")
    def enrol_code(request: Request, form: Annotated[dict[str, str], Depends(form_body)],
                   session: Annotated[Session, Depends(needs(Role.TECHNICIAN))]) -> Response:
        posted(session, form)
        from hub import enrolment

        code = enrolment.make_code(store)
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "kiosk:enrol_code")
        lang = language_of(request)
        return render(request, "fleet.html", session=session, user=session.user, kiosks=fleet_health(store),
                      age_words=lambda seconds: _age(lang, seconds), problem_text=_problem_text(lang), code=code)

    @router.get("/figures")
    def figures_page(request: Request, session: Annotated[Session, Depends(needs(Role.SUPERVISOR))]) -> Response:
        lang = language_of(request)
        shown = _period(request, store)
        named = service_titles(store, lang)
        titled = _titled_figures(shown, lambda sid: named.get(sid, sid))
        drawn = {name: Markup(charts.bars(rows, title=texts.t(lang, f"figures.{name}")))
                 for name, rows in titled.items()}
        return render(request, "figures.html", session=session, user=session.user, f=shown, rows=titled,
                      charts=drawn, query=urllib.parse.urlencode({"from": shown.start.isoformat(),
                                                                  "to": shown.end.isoformat()}))

    @router.get("/figures.csv")
    def figures_csv(request: Request, session: Annotated[Session, Depends(needs(Role.SUPERVISOR))]) -> Response:
        import csv
        import io

        shown = _period(request, store)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["figure", "label", "value"])
        for name, rows in _titled_figures(shown, lambda sid: sid).items():
            for label, value in rows:
                writer.writerow([name, label, f"{value:g}"])
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "figures:csv",
                         f"{shown.start.isoformat()}/{shown.end.isoformat()}")
        name = f"figures-{shown.start.isoformat()}-{shown.end.isoformat()}.csv"
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/catalogue")
    def catalogue_page(request: Request, session: Annotated[Session, Depends(needs(Role.ADMIN))],
                       published: str = "", stale: str = "") -> Response:
        return render(request, "catalogue.html", session=session, user=session.user,
                      services=catalogue_services(documents.catalogue_in_force(store), language_of(request)),
                      check=None,
                      published=bool(published), stale=bool(stale))

    @router.post("/catalogue")
    def catalogue_check(request: Request, upload: Annotated[tuple[dict[str, str], bytes], Depends(catalogue_upload)],
                        session: Annotated[Session, Depends(needs(Role.ADMIN))]) -> Response:
        fields, body = upload
        posted(session, fields)
        lang = language_of(request)
        check = check_draft(store, body)
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "catalogue:check", None,
                         {"valid": check.error is None, "bytes": len(body)})
        return render(request, "catalogue.html", session=session, user=session.user,
                      services=catalogue_services(documents.catalogue_in_force(store), lang), check=check,
                      published=False,
                      stale=False)

    @router.post("/catalogue/publish")
    def catalogue_publish(form: Annotated[dict[str, str], Depends(form_body)],
                          session: Annotated[Session, Depends(needs(Role.ADMIN))]) -> Response:
        posted(session, form)
        doc = publish_draft(store, keys, form.get("etag", ""))
        if doc is None:
            return RedirectResponse(f"{PREFIX}/catalogue?stale=1", 303)
        with store.write() as db:
            audit.record(db, store.now(), session.user.username, "catalogue:publish", doc.etag)
        return RedirectResponse(f"{PREFIX}/catalogue?published=1", 303)

    @router.get("/roles")
    def roles_page(request: Request, session: Annotated[Session, Depends(needs(Role.ADMIN))], done: str = "",
                   bad: str = "") -> Response:
        return render(request, "roles.html", session=session, user=session.user, people=documents.roles(store),
                      done=done if done in ("added", "removed") else "", bad=bool(bad))

    @router.post("/roles")
    def roles_change(form: Annotated[dict[str, str], Depends(form_body)],
                     session: Annotated[Session, Depends(needs(Role.ADMIN))]) -> Response:
        posted(session, form)
        number, role = form.get("personal_number", "").strip(), form.get("role", "")
        who = session.user.username
        if form.get("action") == "remove":
            removed = documents.remove_role(store, number, role or None)
            with store.write() as db:
                audit.record(db, store.now(), who, "role:remove", f"{role}:{number[-3:]}", {"removed": removed})
            return RedirectResponse(f"{PREFIX}/roles?done=removed", 303)
        try:
            documents.add_role(store, number, role, form.get("name", "").strip()[:80])
        except documents.DocumentError:
            return RedirectResponse(f"{PREFIX}/roles?bad=1", 303)
        with store.write() as db:
            audit.record(db, store.now(), who, "role:add", f"{role}:{number[-3:]}")
        return RedirectResponse(f"{PREFIX}/roles?done=added", 303)

    return router


def _problem_text(lang: str) -> Callable[[str, dict[str, Any]], str]:
    def text(key: str, params: dict[str, Any]) -> str:
        words = {k: _age(lang, v) if k == "age" else v for k, v in params.items()}
        return texts.t(lang, key, **words)
    return text


def _period(request: Request, store: HubDatabase) -> Figures:
    today = store.clock().date()
    end = _day(request.query_params.get("to")) or today
    start = _day(request.query_params.get("from")) or end - dt.timedelta(days=29)
    if start > end or (end - start).days > 366:
        start = end - dt.timedelta(days=29)
    return figures(store, start, end)


def _titled_figures(f: Figures, title: Callable[[str], str]) -> dict[str, list[tuple[str, float]]]:
    """The figures by name, services named by their titles."""
    return {"by_centre": f.by_centre, "by_service": [(title(s), v) for s, v in f.by_service], "by_day": f.by_day,
            "hours_to_close": [(title(s), v) for s, v in f.hours_to_close], "rejections": f.rejections,
            "refusals": f.refusals, "ratings": [(f"{score} ★", v) for score, v in f.ratings]}


_LOGIN_PROBLEMS = {"wrong", "locked", "disabled", "code_needed"}
_STATES = {s.value for s in HubState}


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _age(lang: str, seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 120:
        return texts.t(lang, "age.minutes", n=minutes)
    if minutes < 48 * 60:
        return texts.t(lang, "age.hours", n=minutes // 60)
    return texts.t(lang, "age.days", n=minutes // (24 * 60))


def _with_lang(request: Request, code: str) -> str:
    query = dict(request.query_params)
    query["lang"] = code
    return request.url.path + "?" + urllib.parse.urlencode(query)


def install(app: Any, store: HubDatabase, keys: HubKeys, presence: PresenceVerifier | None, *,
            secure_cookies: bool) -> None:
    """Mount the office on ``app``, with its own answers to a missing login, a forbidden page and a bad form."""
    app.include_router(office_router(store, keys, presence, secure_cookies=secure_cookies))

    @app.exception_handler(NeedsLogin)
    async def _login(_request: Request, _exc: NeedsLogin) -> Response:
        return RedirectResponse(f"{PREFIX}/login", 303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        lang = language_of(request)
        html = _TEMPLATES.get_template("message.html").render(
            tr=lambda key, **p: texts.t(lang, key, **p), lang=lang, languages=texts.LANGUAGE_NAMES, prefix=PREFIX,
            here=request.url.path, with_lang=lambda code: _with_lang(request, code), session=None, user=None,
            message=exc.message)
        return HTMLResponse(html, status_code=403, headers=HEADERS)
