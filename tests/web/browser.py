#!/usr/bin/env python3
"""The web pages in a real browser (headless Chromium through Selenium).

Run by tests/e2e_web.c against the daemon and database it started:

    python3 tests/web/browser.py FIXTURE.json

FIXTURE names the daemon's address, the certificates the C test seeded
(valid, expired, revoked), a number that is well-formed but unknown, and
the tokens to fetch PDFs with.  Every page fetched is also checked with
`tidy -e -q` (no errors, no warnings), and the browser's console must stay
free of errors.  With CERTRACK_WEB_SHOTS=DIR set, screenshots of each page
are saved there (docs/web.md's pictures).  Exits 0 when every check
passed; prints each check as it goes.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

FIX = json.load(open(sys.argv[1]))
BASE = FIX["base"]
SHOTS = os.environ.get("CERTRACK_WEB_SHOTS")
TMP = os.environ.get("CERTRACK_TEST_TMP", tempfile.gettempdir())
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def fetch(path, token=None):
    """GET PATH without following redirects: (status, headers, bytes)."""
    req = urllib.request.Request(BASE + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def escaped(s):
    """S as the pages' one escaping function writes it."""
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"),
                 ('"', "&quot;"), ("'", "&#39;")):
        s = s.replace(a, b)
    return s


def tidy_ok(path, html):
    f = os.path.join(TMP, "tidy-page.html")
    with open(f, "wb") as fp:
        fp.write(html)
    r = subprocess.run(["tidy", "-e", "-q", f], capture_output=True,
                       text=True)
    check(r.returncode == 0, "tidy: %s has no errors or warnings %s"
          % (path, r.stderr.strip()))


def page(path, status, public=True):
    """Fetches PATH as HTML: status, headers, tidy; returns the text."""
    st, hd, body = fetch(path)
    check(st == status, "GET %s answers %d (got %d)" % (path, status, st))
    check(hd.get("Content-Type") == "text/html; charset=utf-8",
          "GET %s is HTML" % path)
    csp = hd.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "style-src 'self'" in csp and
          "script-src" not in csp, "GET %s has the pages' CSP" % path)
    want = "public, max-age=300" if public else "no-store"
    check(hd.get("Cache-Control") == want,
          "GET %s is Cache-Control: %s (got %s)"
          % (path, want, hd.get("Cache-Control")))
    tidy_ok(path, body)
    return body.decode()


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def console_clean(driver, where, status_page=None):
    """No console errors since the last look; a page answered 4xx on
    purpose (STATUS_PAGE, its address) is logged by Chromium as a failed
    load of itself, which is not an error of the page."""
    errors = [e for e in driver.get_log("browser")
              if e.get("level") == "SEVERE" and not
              (status_page and e.get("source") == "network" and
               e.get("message", "").startswith(status_page + " "))]
    check(not errors, "no console errors on %s %s" % (where, errors))


def submitted(driver, before):
    """Waits for the page a form went to (a loaded machine is slow)."""
    WebDriverWait(driver, 30).until(
        lambda d: d.current_url != before and
        d.execute_script("return document.readyState") == "complete")


def verify_typed(driver, typed):
    driver.get(BASE + "/verify")
    box = driver.find_element(By.ID, "number")
    box.clear()
    box.send_keys(typed)
    box.submit()
    submitted(driver, BASE + "/verify")


def status_of(driver):
    sec = driver.find_element(By.CSS_SELECTOR, "section.status")
    return sec.get_attribute("class"), sec.text


def mistyped(number):
    """NUMBER with its check symbol changed (a typo certnum catches)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    last = number[-1]
    return number[:-1] + alphabet[(alphabet.index(last) + 1) % 32]


def people_typing(number):
    """NUMBER as a person might type it: lower case, blanks, I/L/O."""
    s = number.lower().replace("-", " ")
    return " " + s.replace("1", "l").replace("0", "o") + " "


def test_pages_checked():
    # each public page as served: status, headers, tidy
    home = page("/", 200)
    check('href="/verify"' in home and 'href="/find"' in home,
          "the home page links to verify and find")
    page("/verify", 200)
    v = FIX["valid"]
    body = page("/verify/" + v, 200)
    check(escaped(FIX["holder"]) in body,
          "the valid certificate names its holder, escaped")
    check("<svg" in body and "/verify/" + v in body,
          "the certificate's page has its QR code and address")
    page("/verify/" + FIX["expired"], 200)
    body = page("/verify/" + FIX["revoked"], 200)
    check(FIX["revoked_note"] not in body,
          "the staff note of a revocation is never shown")
    page("/verify/" + mistyped(v), 422)
    page("/verify/" + FIX["unknown"], 404)
    page("/verify?number=nonsense", 422)
    page("/find", 200)
    body = page("/find?name=jane&state=ca", 200)
    check(escaped(FIX["holder"]) in body, "/find by name finds the holder")
    page("/find?zip=1", 422)
    page("/find?name=nobody", 200)
    st, hd, body = fetch("/v1/directory?city=San+Diego")
    found = [i["name"] for i in json.loads(body)["items"]]
    check(st == 200 and found == [FIX["holder"]] and
          hd.get("Access-Control-Allow-Origin") == "*" and
          hd.get("Cache-Control") == "public, max-age=300",
          "GET /v1/directory: only the listed valid holder, for any site "
          "(%s)" % found)
    st, hd, _ = fetch("/verify?number=" + people_typing(v).strip()
                      .replace(" ", "+"))
    check(st == 303 and hd.get("Location") == "/verify/" + v,
          "the form's number as typed goes to the certificate's address")
    st, hd, body = fetch("/static/style.css")
    check(st == 200 and hd.get("Content-Type", "").startswith("text/css"),
          "the stylesheet is served")
    st, hd, _ = fetch("/static/nothing.css")
    check(st == 404, "an unknown static file is 404")
    # the API keeps its own headers
    st, hd, _ = fetch("/v1/certificates/" + v)
    check(hd.get("Content-Security-Policy") ==
          "default-src 'none'; frame-ancestors 'none'" and
          hd.get("Cache-Control") == "no-store",
          "the API's answers keep the strict CSP and no-store")


def test_directory(driver):
    driver.get(BASE + "/")
    driver.find_element(By.LINK_TEXT, "Find a practitioner").click()
    submitted(driver, BASE + "/")
    check(driver.current_url.endswith("/find"), "the menu links to /find")
    driver.find_element(By.ID, "city").send_keys("san diego")
    Select(driver.find_element(By.ID, "profession")).select_by_value("PT")
    driver.find_element(By.ID, "state").send_keys("ca")
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    submitted(driver, BASE + "/find")
    found = [h.text for h in
             driver.find_elements(By.CSS_SELECTOR, ".results h3")]
    check(found == [FIX["holder"]], "San Diego, CA, PT finds only the "
          "listed holder of a valid certificate: %s" % found)
    text = driver.find_element(By.CSS_SELECTOR, ".results").text
    check("Level 1" in text and "Call (619) 555-0100" in text,
          "a result shows its levels and chosen contact")
    check("@web.example" not in driver.page_source,
          "no email on the directory page")
    check(driver.find_element(By.ID, "city").get_attribute("value") ==
          "san diego", "the search stays in the form")
    shot(driver, "find")
    console_clean(driver, "/find")
    for who, why in ((FIX["expired_holder"], "an expired certificate"),
                     (FIX["unlisted"], "not listed")):
        driver.get(BASE + "/find?name=" + who.split()[0])
        found = [h.text for h in
                 driver.find_elements(By.CSS_SELECTOR, ".results h3")]
        check(found == [] and "No certified practitioner matches" in
              driver.page_source, "%s (%s) is not found" % (who, why))
    driver.get(BASE + "/find?zip=12")
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check("ZIP" in alert, "a bad ZIP code is explained: %s" % alert)
    console_clean(driver, "/find bad zip", BASE + "/find?zip=12")


def test_pdf():
    v = FIX["valid"]
    path = "/v1/certificates/%s.pdf" % v.lower()
    st, hd, a = fetch(path, FIX["holder_token"])
    check(st == 200 and hd.get("Content-Type") == "application/pdf",
          "the holder downloads the PDF (got %d)" % st)
    check(hd.get("Cache-Control") == "no-store", "the PDF is not cached")
    st2, _, b = fetch(path, FIX["holder_token"])
    check(st2 == 200 and a == b, "the same certificate is the same bytes "
          "twice (%d and %d bytes)" % (len(a), len(b)))
    st, _, c = fetch(path, FIX["staff_token"])
    check(st == 200 and c == a, "staff get the same PDF")
    f = os.path.join(TMP, "certificate.pdf")
    with open(f, "wb") as fp:
        fp.write(a)
    text = subprocess.run(["pdftotext", "-layout", f, "-"],
                          capture_output=True, text=True).stdout
    for want in (FIX["holder"], v, FIX["credential"], FIX["level"],
                 FIX["program"], BASE + "/verify/" + v):
        check(want in text, "the PDF's text has %r" % want)
    fonts = subprocess.run(["pdffonts", f], capture_output=True,
                           text=True).stdout.splitlines()[2:]
    check(fonts and all(re.search(r"\byes\s+yes\b", l) for l in fonts),
          "every font of the PDF is embedded")
    st, _, _ = fetch(path, FIX["other_token"])
    check(st == 404, "another clinician's certificate is 404 (got %d)" % st)
    st, _, _ = fetch(path)
    check(st == 401, "no login: 401 (got %d)" % st)
    st, _, _ = fetch("/v1/certificates/%s.pdf" % FIX["revoked"],
                     FIX["staff_token"])
    check(st == 409, "a revoked certificate has no PDF (got %d)" % st)
    st, _, _ = fetch("/v1/certificates/%s.pdf" % mistyped(v),
                     FIX["staff_token"])
    check(st == 422, "a mistyped number's PDF is 422 (got %d)" % st)


def test_browser(driver):
    driver.get(BASE + "/")
    check(driver.title.startswith("Certified practitioners"), "home title")
    shot(driver, "home")
    console_clean(driver, "/")
    driver.find_element(By.LINK_TEXT, "Verify a certificate").click()
    submitted(driver, BASE + "/")
    check(driver.current_url.endswith("/verify"), "home links to /verify")

    v = FIX["valid"]
    verify_typed(driver, people_typing(v))
    check(driver.current_url == BASE + "/verify/" + v,
          "a number typed in lower case with blanks, l and o opens %s "
          "(got %s)" % (v, driver.current_url))
    cls, text = status_of(driver)
    check("valid" in cls.split() and "Valid" in text,
          "valid: in words and class (%s)" % text)
    dd = driver.find_element(By.CSS_SELECTOR, "dl.facts").text
    for want in (FIX["holder"], FIX["credential"], FIX["level"],
                 FIX["program"]):
        check(want in dd, "the valid certificate shows %r" % want)
    qr = driver.find_element(By.CSS_SELECTOR, "svg.qr")
    check(qr.get_attribute("aria-label") != "", "the QR code is labelled")
    shot(driver, "verify-valid")
    console_clean(driver, "/verify/valid")

    driver.get(BASE + "/verify/" + FIX["expired"])
    cls, text = status_of(driver)
    check("expired" in cls.split() and "Expired" in text and
          "expired on" in text, "expired: in words (%s)" % text)
    shot(driver, "verify-expired")

    driver.get(BASE + "/verify/" + FIX["revoked"])
    cls, text = status_of(driver)
    check("revoked" in cls.split() and "Revoked" in text and
          "misconduct" in text and "revoked on" in text,
          "revoked: with its date and public category (%s)" % text)
    check(FIX["revoked_note"] not in driver.page_source,
          "the revocation's staff note is not on the page")
    shot(driver, "verify-revoked")

    verify_typed(driver, mistyped(v))
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check("not a valid certificate number" in alert and
          "check the digits" in alert and "Nothing was looked up" in alert,
          "a mistyped check symbol is caught: %s" % alert)
    check(driver.find_element(By.ID, "number").get_attribute("value") ==
          mistyped(v), "what was typed stays in the box")
    shot(driver, "verify-typo")
    console_clean(driver, "/verify typo", driver.current_url)

    verify_typed(driver, FIX["unknown"])
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check("There is no certificate " + FIX["unknown"] in alert,
          "an unknown number says so: %s" % alert)
    shot(driver, "verify-unknown")
    console_clean(driver, "/verify unknown",
                  BASE + "/verify/" + FIX["unknown"])

    # a phone's width: nothing wider than the screen
    driver.set_window_size(390, 844)
    driver.get(BASE + "/verify/" + v)
    width = driver.execute_script(
        "return document.documentElement.scrollWidth")
    check(width <= 390, "the certificate page fits a phone (%d px)" % width)
    shot(driver, "verify-phone")
    driver.set_window_size(1000, 900)


def chromium(profile, size):
    """Headless Chromium, its console logged, a profile of its own."""
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--window-size=" + size,
              "--user-data-dir=" + os.path.join(TMP, profile)):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                            options=opts)


def main():
    signal.alarm(300)		# never hang make test
    test_pages_checked()
    test_pdf()
    driver = chromium("chromium-profile", "1000,900")
    try:
        test_browser(driver)
        test_directory(driver)
    finally:
        driver.quit()
    if failures:
        print("%d check(s) failed:\n  %s" % (len(failures),
                                            "\n  ".join(failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
