#!/usr/bin/env python3
"""The logged-in pages in a real browser (headless Chromium, Selenium).

Run by tests/e2e_web2.c against the daemon and database it started:

    python3 tests/web/browser2.py FIXTURE.json

FIXTURE names the daemon's address, a course session of four clinicians
(Pat, Fay, Rex who failed his written exam today, Emma) and the passwords
of "admin", "grader" and Pat's generated one.  Uses browser.py's checks
(tidy on every page, the console, screenshots with CERTRACK_WEB_SHOTS).
Exits 0 when every check passed; prints each check as it goes.
"""
import http.cookies
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser as b  # noqa: E402  (FIX read from the same argv[1])

from selenium.webdriver.common.by import By  # noqa: E402

FIX = b.FIX
BASE = FIX["base"]
check = b.check
NEW_PW = "correct horse battery staple 42"


class Client:
    """A cookie-keeping client that does not follow redirects."""

    def __init__(self):
        self.cookies = {}

    def go(self, method, path, form=None, cookies=None):
        data = urllib.parse.urlencode(form).encode() if form is not None \
            else None
        req = urllib.request.Request(BASE + path, data=data, method=method)
        jar = dict(self.cookies if cookies is None else cookies)
        if jar:
            req.add_header("Cookie", "; ".join("%s=%s" % kv
                                               for kv in jar.items()))
        if data is not None:
            req.add_header("Content-Type",
                           "application/x-www-form-urlencoded")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=60) as r:
                st, hd, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            st, hd, body = e.code, e.headers, e.read()
        for h in (hd.get_all("Set-Cookie") or []) if cookies is None \
                else []:
            c = http.cookies.SimpleCookie(h)
            for k, m in c.items():
                if m.value == "" or m["max-age"] == "0":
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = m.value
        return st, hd, body


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    return m.group(1) if m else None


def html_page(c, path, status, method="GET", form=None):
    """PATH through client C: status, HTML, no-store, CSP, tidy."""
    st, hd, body = c.go(method, path, form)
    check(st == status, "%s %s answers %d (got %d)" % (method, path,
                                                      status, st))
    check(hd.get("Content-Type") == "text/html; charset=utf-8",
          "%s %s is HTML" % (method, path))
    check(hd.get("Cache-Control") == "no-store",
          "%s %s is no-store" % (method, path))
    check("default-src 'none'" in hd.get("Content-Security-Policy", ""),
          "%s %s has the pages' CSP" % (method, path))
    b.tidy_ok(method + " " + path, body)
    return hd, body.decode()


def login(c, user, pw):
    """Logs client C in by the form; the answer to the POST."""
    _, page = html_page(c, "/login", 200)
    return c.go("POST", "/login", {"csrf": csrf_of(page),
                                   "username": user, "password": pw})


def test_session_rules():
    """Cookies, CSRF and roles, without a browser."""
    c = Client()
    st, hd, _ = c.go("GET", "/me")
    check(st == 303 and hd.get("Location") == "/login",
          "no session: /me sends to /login (%d)" % st)
    hd, page = html_page(c, "/login", 200)
    pre = hd.get("Set-Cookie", "")
    check("HttpOnly" in pre and "SameSite=Strict" in pre,
          "the login form's cookie is HttpOnly, SameSite=Strict")
    st, _, body = c.go("POST", "/login", {"username": "grader",
                                          "password": FIX["grader_pw"]})
    check(st == 403 and b"load the page again" in body,
          "a login form without its CSRF token is refused 403 (%d)" % st)
    st, _, _ = c.go("POST", "/login", {"csrf": "0" * 64,
                                       "username": "grader",
                                       "password": FIX["grader_pw"]})
    check(st == 403, "a login form with a wrong CSRF token: 403")
    _, page = html_page(c, "/login", 200)
    hd, page = html_page(c, "/login", 401, "POST", {
        "csrf": csrf_of(page), "username": "grader", "password": "nope"})
    check("wrong username or password" in page and
          'value="grader"' in page,
          "a wrong password says so, and keeps the username")
    st, hd, _ = login(c, "grader", FIX["grader_pw"])
    cookie = [h for h in hd.get_all("Set-Cookie")
              if h.startswith("certrack_session=")]
    check(st == 303 and hd.get("Location") == "/staff/sessions",
          "a grader logs in and is sent to the sheets (%d)" % st)
    check(cookie and "HttpOnly" in cookie[0] and
          "SameSite=Strict" in cookie[0] and "Path=/" in cookie[0] and
          "Secure" not in cookie[0],
          "the session cookie: HttpOnly, SameSite=Strict, Path=/, not "
          "Secure over plain HTTP (%s)" % cookie)
    token = c.cookies.get("certrack_session", "")
    st, _, _ = c.go("GET", "/v1/me")
    check(st == 401, "the cookie is not a login on /v1/ routes (%d)" % st)
    req = urllib.request.Request(BASE + "/v1/me")
    req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        check(r.status == 200, "the cookie's token is an API token too")
    _, page = html_page(c, "/staff/sessions", 200)
    check("Austin, TX" in page, "the grader sees the sessions")
    path = "/staff/sessions/%d" % FIX["session"]
    _, page = html_page(c, path, 200)
    st, _, body = c.go("POST", path, {"taken_on": FIX["today"]})
    check(st == 403 and b"load the page again" in body,
          "a session sheet posted without its CSRF token: 403 (%d)" % st)
    st, _, _ = c.go("POST", path, {"csrf": "a" * 64})
    check(st == 403, "a session sheet with a wrong CSRF token: 403")
    st, _, _ = c.go("POST", path, {"csrf": csrf_of(page)},
                    cookies={"certrack_session": "x" * 43})
    check(st == 303, "an unknown session cookie is sent to log in")
    html_page(c, "/logout", 200, "POST", {"csrf": csrf_of(page)})
    check("certrack_session" not in c.cookies, "logging out drops the "
          "cookie")
    st, hd, _ = c.go("GET", "/staff/sessions",
                     cookies={"certrack_session": token})
    check(st == 303 and hd.get("Location") == "/login",
          "after logging out the old token opens nothing (%d)" % st)


def sheet_rows(driver):
    rows = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "table tbody tr"):
        name = tr.find_element(By.CSS_SELECTOR, "th").text
        rows[name] = tr
    return rows


def browser_login(driver, user, pw):
    driver.get(BASE + "/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(pw)
    if user == "admin":
        b.shot(driver, "login")
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    b.submitted(driver, BASE + "/login")


def logout(driver):
    driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
    b.WebDriverWait(driver, 30).until(
        lambda d: "you have logged out" in d.page_source)


def test_sheet(driver):
    path = "/staff/sessions/%d" % FIX["session"]
    # an admin marks the course completed for the three not yet
    browser_login(driver, "admin", FIX["admin_pw"])
    check(driver.current_url == BASE + "/staff/sessions",
          "the admin lands on the sheets")
    driver.find_element(By.PARTIAL_LINK_TEXT, "DN1 of").click()
    b.submitted(driver, BASE + "/staff/sessions")
    rows = sheet_rows(driver)
    check(sorted(rows) == sorted([FIX["pat"], FIX["fay"], FIX["rex"],
                                  FIX["emma"]]),
          "the sheet lists the four enrolled: %s" % sorted(rows))
    for who in ("pat", "fay", "emma"):
        rows[FIX[who]].find_element(
            By.CSS_SELECTOR, "input[type=checkbox]").click()
    driver.find_element(By.CSS_SELECTOR, "form.sheet button").click()
    WebDriverWait = b.WebDriverWait
    WebDriverWait(driver, 30).until(
        lambda d: "recorded" in d.find_element(By.CSS_SELECTOR,
                                               "[role=alert]").text)
    rows = sheet_rows(driver)
    for who in ("pat", "fay", "emma"):
        check("course completed" in rows[FIX[who]].text,
              "%s's course is marked completed" % who)
    b.console_clean(driver, "the sheet (admin)")
    logout(driver)

    browser_login(driver, "grader", FIX["grader_pw"])
    driver.get(BASE + path)
    rows = sheet_rows(driver)
    check("1 used" in rows[FIX["rex"]].text,
          "the sheet shows Rex's attempt so far")

    def box(who, kind):
        return sheet_rows(driver)[FIX[who]].find_element(
            By.CSS_SELECTOR, "input[name^=%s_]" % kind)
    box("pat", "written").send_keys("90")
    box("pat", "practical").send_keys("88")
    box("fay", "written").send_keys("50")
    box("rex", "written").send_keys("80")
    # Fay sat the day before (her row's own date); Rex's row names the
    # sheet's date itself, and is refused: it must come back as typed
    for who, day in (("fay", FIX["yesterday"]), ("rex", FIX["today"])):
        driver.execute_script("arguments[0].value = arguments[1]",
                              box(who, "taken_on"), day)
    driver.execute_script("document.querySelector('table')"
                          ".scrollIntoView()")
    b.shot(driver, "sheet-filled")
    driver.find_element(By.CSS_SELECTOR, "form.sheet button").click()
    WebDriverWait(driver, 30).until(
        lambda d: "recorded" in d.find_element(By.CSS_SELECTOR,
                                               "[role=alert]").text)
    rows = sheet_rows(driver)
    out = {who: rows[FIX[who]].find_element(By.CSS_SELECTOR,
                                            "td.outcome").text
           for who in ("pat", "fay", "rex", "emma")}
    check("written recorded: attempt 1, passed" in out["pat"] and
          "practical recorded: attempt 1, passed" in out["pat"] and
          "certificate" in out["pat"] and "issued" in out["pat"],
          "Pat: passed both, certificate issued (%s)" % out["pat"])
    check("written recorded: attempt 1, failed" in out["fay"],
          "Fay: a fail (%s)" % out["fay"])
    check("written refused" in out["rex"] and
          "allowed on or after" in out["rex"],
          "Rex: a retake too soon is refused with its reason (%s)"
          % out["rex"])
    check(out["emma"] == "", "Emma's empty row: nothing (%r)"
          % out["emma"])
    check(box("rex", "written").get_attribute("value") == "80",
          "the refused score stays as typed")
    check(box("rex", "taken_on").get_attribute("value") == FIX["today"],
          "and its row's exam date too (%r)"
          % box("rex", "taken_on").get_attribute("value"))
    check(box("fay", "taken_on").get_attribute("value") == "",
          "a recorded row's own date is emptied with its score")
    check(box("pat", "taken_on").get_attribute("value") == "",
          "a row without its own date stays without one")
    check(box("pat", "written").get_attribute("value") == "",
          "a recorded score is emptied (not sent twice)")
    check("refused" in rows[FIX["rex"]].find_element(
        By.CSS_SELECTOR, "td.outcome").get_attribute("class") or
        "bad" in rows[FIX["rex"]].find_element(
            By.CSS_SELECTOR, "td.outcome").get_attribute("class"),
          "a refusal is marked as one")
    driver.execute_script("document.querySelector('table')"
                          ".scrollIntoView()")
    b.shot(driver, "sheet-outcome")
    b.console_clean(driver, "the sheet (grader)")
    logout(driver)


def test_clinician(driver):
    c = Client()
    # a clinician's cookie is refused on staff pages
    st, hd, _ = login(c, "pat", FIX["pat_pw"])
    check(st == 303 and hd.get("Location") == "/account/password",
          "a generated password sends to the password change (%s)"
          % hd.get("Location"))
    st, hd, _ = c.go("GET", "/me")
    check(st == 303 and hd.get("Location") == "/account/password",
          "nothing else opens before the change")
    html_page(c, "/account/password", 200)
    html_page(c, "/logout", 200, "POST", {"csrf": csrf_of(
        c.go("GET", "/account/password")[2].decode())})

    browser_login(driver, "pat", FIX["pat_pw"])
    check(driver.current_url == BASE + "/account/password",
          "the browser is sent to change the password")
    b.shot(driver, "password-forced")
    driver.find_element(By.ID, "current_password").send_keys(FIX["pat_pw"])
    driver.find_element(By.ID, "new_password").send_keys("short")
    driver.find_element(By.ID, "new_password_again").send_keys("short")
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    b.WebDriverWait(driver, 30).until(
        lambda d: "at least 12" in d.page_source)
    check(True, "a weak new password is refused with the API's reason")
    b.console_clean(driver, "/account/password refused",
                    BASE + "/account/password")
    driver.find_element(By.ID, "current_password").send_keys(FIX["pat_pw"])
    driver.find_element(By.ID, "new_password").send_keys(NEW_PW)
    driver.find_element(By.ID, "new_password_again").send_keys(NEW_PW)
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    b.WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/me"))
    check(driver.current_url == BASE + "/me",
          "after the change the transcript opens")
    text = driver.find_element(By.ID, "main").text
    check("Pat Passer" in text and "DN1" in text, "the transcript names "
          "Pat and the level")
    check("90/100" in text and "88/100" in text and "passed" in text,
          "the transcript shows the attempts and marks")
    number = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    check(number is not None and "valid" in text,
          "the transcript shows the certificate, valid")
    b.shot(driver, "me")
    b.console_clean(driver, "/me")
    link = driver.find_element(By.PARTIAL_LINK_TEXT, "Download the PDF")
    href = link.get_attribute("href")
    cookie = driver.get_cookie("certrack_session")
    check(cookie and cookie.get("httpOnly") and
          cookie.get("sameSite") == "Strict",
          "the browser keeps the session cookie HttpOnly, Strict")
    jar = {"certrack_session": cookie["value"]}
    st, hd, pdf = c.go("GET", href[len(BASE):], cookies=jar)
    check(st == 200 and hd.get("Content-Type") == "application/pdf" and
          hd.get("Cache-Control") == "no-store",
          "the PDF downloads with the session (%d)" % st)
    f = os.path.join(b.TMP, "web2-certificate.pdf")
    with open(f, "wb") as fp:
        fp.write(pdf)
    txt = subprocess.run(["pdftotext", "-layout", f, "-"],
                         capture_output=True, text=True).stdout
    check("Pat Passer" in txt and number and number.group(0) in txt,
          "the PDF's text has the holder and the number")
    st, hd, body = c.go("GET", "/staff/sessions", cookies=jar)
    check(st == 403 and b"for staff" in body,
          "a clinician's cookie is refused on staff pages (%d)" % st)
    b.tidy_ok("403 /staff/sessions", body)
    st, _, _ = c.go("GET", "/staff/sessions/%d" % FIX["session"],
                    cookies=jar)
    check(st == 403, "and on a session sheet (%d)" % st)
    st, _, body = c.go("POST", "/me/directory", {"listed": "yes"},
                       cookies=jar)
    check(st == 403, "the directory form without its CSRF token: 403")

    # directory opt-in from the page
    driver.find_element(By.CSS_SELECTOR,
                        "input[name=listed][value=yes]").click()
    driver.find_element(By.ID, "practice_city").send_keys("Austin")
    driver.find_element(By.ID, "practice_state").send_keys("TX")
    driver.find_element(By.ID, "practice_zip").send_keys("7870")
    driver.find_element(By.CSS_SELECTOR,
                        "form.search[action='/me/directory'] button").click()
    b.WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check("zip" in alert.lower() and
          driver.find_element(By.ID, "practice_city").get_attribute(
              "value") == "Austin",
          "a bad ZIP is refused with the API's reason, the form kept (%s)"
          % alert)
    b.console_clean(driver, "/me/directory refused", BASE + "/me/directory")
    z = driver.find_element(By.ID, "practice_zip")
    z.clear()
    z.send_keys("78701")
    driver.find_element(By.CSS_SELECTOR,
                        "form.search[action='/me/directory'] button").click()
    b.WebDriverWait(driver, 30).until(
        lambda d: "listing is saved" in d.page_source)
    check(True, "the listing is saved")
    st, _, body = b.fetch("/find?name=pat&state=tx")
    check(b"Pat Passer" in body, "Pat is now found in the directory")

    # logout, then the back button shows nothing private
    logout(driver)
    check("you have logged out" in driver.page_source, "logged out")
    driver.back()
    b.WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") ==
        "complete")
    check("90/100" not in driver.page_source and
          "Your certificates" not in driver.title,
          "the back button does not show the transcript (%s)"
          % driver.current_url)
    driver.get(BASE + "/me")
    check(driver.current_url == BASE + "/login",
          "/me after logging out asks to log in")


def api(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, method=method, data=None
                                 if body is None else json.dumps(body)
                                 .encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")


def admin_token():
    _, admin = api("POST", "/v1/login", body={
        "username": "admin", "password": FIX["admin_pw"]})
    return admin["token"]


def revoke_live_tokens(user):
    """Revokes every live token of account USER (an id) by the API, as
    an admin would; how many there were."""
    admin = admin_token()
    _, tokens = api("GET", "/v1/users/%s/tokens" % user, admin)
    live = [t["id"] for t in tokens if t["revoked_at"] is None]
    for t in live:
        st, _ = api("DELETE", "/v1/tokens/%d" % t, admin)
        check(st == 204, "token %d revoked (%d)" % (t, st))
    return len(live)


def test_session_ends():
    """A page session is a token: revoking it, or disabling the account,
    ends it."""
    c = Client()
    st, hd, _ = login(c, "rex", FIX["rex_pw"])
    check(st == 303 and hd.get("Location") == "/me", "Rex logs in")
    st, _, _ = c.go("GET", "/me")
    check(st == 200, "Rex's transcript opens")
    check(revoke_live_tokens(FIX["rex_user"]) == 1,
          "the page session is Rex's one live token")
    st, hd, _ = c.go("GET", "/me")
    check(st == 303 and hd.get("Location") == "/login",
          "the page session of a revoked token is over (%d)" % st)
    check("certrack_session" not in c.cookies, "and its cookie dropped")

    c = Client()
    st, hd, _ = login(c, "fay", FIX["fay_pw"])
    check(st == 303 and hd.get("Location") == "/me", "Fay logs in")
    st, _, _ = c.go("GET", "/me")
    check(st == 200, "Fay's transcript opens")
    st, _ = api("PATCH", "/v1/users/" + FIX["fay_user"], admin_token(),
                {"disabled": True})
    check(st == 200, "the admin disables Fay's account")
    st, hd, _ = c.go("GET", "/me")
    check(st == 303 and hd.get("Location") == "/login",
          "the page session of a disabled account is over (%d)" % st)
    check("certrack_session" not in c.cookies, "and its cookie dropped")


def test_session_ends_in_browser(driver):
    """The same in Chromium: the next page load after a revocation, or
    after the account is disabled, is the login page."""
    browser_login(driver, "rex", FIX["rex_pw"])
    check(driver.current_url == BASE + "/me", "Rex logs in in the browser")
    check(revoke_live_tokens(FIX["rex_user"]) == 1,
          "the browser's session is Rex's one live token")
    driver.get(BASE + "/me")
    check(driver.current_url == BASE + "/login",
          "after the revocation /me goes to the login page (%s)"
          % driver.current_url)
    check(driver.find_element(By.TAG_NAME, "h1").text == "Log in",
          "and it is the login page")
    browser_login(driver, "rex", FIX["rex_pw"])
    check(driver.current_url == BASE + "/me", "Rex logs in again")
    st, _ = api("PATCH", "/v1/users/" + FIX["rex_user"], admin_token(),
                {"disabled": True})
    check(st == 200, "the admin disables Rex's account")
    driver.get(BASE + "/me")
    check(driver.current_url == BASE + "/login",
          "after disabling the account /me goes to the login page (%s)"
          % driver.current_url)
    b.console_clean(driver, "the login page after the session ended",
                    BASE + "/login")


def main():
    signal.alarm(420)
    test_session_rules()
    test_session_ends()
    driver = b.chromium("chromium-web2", "1200,900")
    try:
        test_sheet(driver)
        test_clinician(driver)
        test_session_ends_in_browser(driver)
    finally:
        driver.quit()
    if b.failures:
        print("%d check(s) failed:\n  %s" % (len(b.failures),
                                            "\n  ".join(b.failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
