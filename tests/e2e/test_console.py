"""The web console (`/console/` on the omics listener) driven in real headless Chromium and Firefox
with Selenium: sign in with a fresh account's keys, create a sequence store, upload a paired FASTQ.gz
through the file inputs with the progress bar reaching 100 %, see the read set ACTIVE with the
ETag the tools compute (`gzip -dc F | sha256sum`), download a file and compare it with what
boto3's GetReadSet returns; a wrong secret shows the server's signature error and no data; an
ARCHIVED read set is activated from its page and its activation job shows the item COMPLETED.

Debian's `chromium`, `chromium-driver` and `firefox-esr`, geckodriver from crates.io
(scripts/test-all installs them) and `selenium` from PyPI; without them the tests skip locally
and fail in CI. Chromium alone reports its network log (no request to another origin). Screenshots are kept under
target/e2e-artifacts/console/<backend>/ (docs/console.png is one of them).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import OPEN_GRANTS
from e2e_support import REPO_ROOT, in_ci, new_account_id, unique
from read_set_api import upload_read_set, wait_read_set
from read_set_support import decompressed_hash, gzip_file, write_fastq_pair

try:
    from selenium import webdriver
    from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                            TimeoutException)
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.firefox.service import Service as FirefoxService
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys as Key
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by the `browser` fixture
    webdriver = None

# Idle read sets are archived after 2 s; "0" in this variable switches archiving off.
ARCHIVING = OPEN_GRANTS + '[lifecycle]\narchive_after = "2s"\nscan_interval = "1s"\nlevel = 1\n'
ARCHIVE_OFF = "SEQSTORE_LIFECYCLE__ARCHIVE_AFTER"
ARTIFACTS = REPO_ROOT / "target" / "e2e-artifacts" / "console"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _unavailable(why: str):
    msg = f"{why} (scripts/test-all installs it)"
    if in_ci():
        pytest.fail(msg + "; the console must be tested in CI")
    pytest.skip(msg)


@pytest.fixture(params=["chromium", "firefox"])
def browser(request, tmp_path):
    """Headless Chromium or Firefox, downloads going to `browser.downloads`; `browser.kind` names it."""
    if webdriver is None:
        _unavailable("selenium is not installed")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _chromium(downloads) if request.param == "chromium" else _firefox(downloads)
    driver.kind = request.param
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _chromium(downloads: Path):
    """Chromium with its network and console logs on."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        _unavailable("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-features=Translate,OptimizationHints,MediaRouter"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def _firefox(downloads: Path):
    """Firefox ESR saving downloads without asking, its own phoning home switched off."""
    firefox, geckodriver = shutil.which("firefox-esr") or shutil.which("firefox"), shutil.which("geckodriver")
    if firefox is None or geckodriver is None:
        _unavailable("Debian's firefox-esr or geckodriver (cargo install geckodriver) is not installed")
    options = webdriver.FirefoxOptions()
    options.binary_location = firefox
    for arg in ("-headless", "--width=1280", "--height=800"):
        options.add_argument(arg)
    for name, value in {
        "browser.download.folderList": 2,
        "browser.download.dir": str(downloads),
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.helperApps.neverAsk.saveToDisk": "application/octet-stream,application/gzip",
        "app.update.enabled": False,
        "browser.safebrowsing.malware.enabled": False,
        "browser.safebrowsing.phishing.enabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
    }.items():
        options.set_preference(name, value)
    return webdriver.Firefox(options=options, service=FirefoxService(executable_path=geckodriver))


@pytest.fixture
def artifacts(backend, browser) -> Path:
    d = ARTIFACTS / backend / browser.kind
    d.mkdir(parents=True, exist_ok=True)
    return d


def wait(driver, condition, timeout: float = 30, what: str = ""):
    try:
        # The pages re-render as answers arrive: an element gone stale is "not yet".
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
                             ).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}\n"
                             f"page text:\n{driver.find_element(By.TAG_NAME, 'body').text}") from None


def visible(driver, css: str, timeout: float = 30):
    def find(d):
        found = d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found and found[0].is_displayed() else None
    return wait(driver, find, timeout, css)


def heading(driver) -> str:
    return visible(driver, "h1").text


def shot(driver, directory: Path, name: str) -> Path:
    """A screenshot of the whole page (1280 wide, as tall as the page, at least 800)."""
    path = directory / name
    if driver.kind == "firefox":
        assert driver.get_full_page_screenshot_as_file(str(path)), f"cannot write {path}"
        return path
    height = max(800, driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        assert driver.save_screenshot(str(path)), f"cannot write {path}"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def sign_in(driver, endpoint: str, access_key_id: str, secret: str) -> None:
    driver.get(f"{endpoint}/console/")
    form = visible(driver, "form#sign-in")
    # The region field is filled from the server's /console/config.json.
    region = form.find_element(By.NAME, "region")
    wait(driver, lambda d: region.get_attribute("value") == "us-east-1", 5, "the region")
    form.find_element(By.NAME, "accessKeyId").send_keys(access_key_id)
    # Submitted from the keyboard, as a user without a mouse would.
    form.find_element(By.NAME, "secretAccessKey").send_keys(secret, Key.ENTER)


def requested_urls(driver) -> list[str]:
    """Every URL the page asked the network for, from Chromium's performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def get_read_set_bytes(client, store_id: str, read_set_id: str, source: str, parts: int) -> bytes:
    return b"".join(
        client.get_read_set(sequenceStoreId=store_id, id=read_set_id, partNumber=n, file=source)["payload"].read()
        for n in range(1, parts + 1)
    )


def test_console_upload_and_download(server, browser, artifacts, tmp_path):
    started = time.monotonic()
    account_id = new_account_id()
    keys, _ = server.create_keys(account_id)
    client = server.client(keys)
    r1, r2 = write_fastq_pair(tmp_path, "console", 400, seed=16)
    gz1 = gzip_file(r1, tmp_path / "console_R1.fastq.gz")
    gz2 = gzip_file(r2, tmp_path / "console_R2.fastq.gz")
    etag1, etag2 = decompressed_hash(gz1, "SHA256up"), decompressed_hash(gz2, "SHA256up")

    # The console is static, same-origin only, and says so in its headers.
    with urllib.request.urlopen(f"{server.endpoint}/console") as answer:  # redirected to /console/
        assert answer.url == f"{server.endpoint}/console/"
        csp = answer.headers["Content-Security-Policy"]
        assert answer.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{server.endpoint}/console/nothing.js")
    assert missing.value.code == 404

    sign_in(browser, server.endpoint, keys.access_key_id, keys.secret_access_key)
    wait(browser, lambda d: heading(d) == "Sequence stores", what="the store list")
    assert browser.switch_to.active_element.get_attribute("id") == "page-heading", "focus is not on the new page"
    assert keys.access_key_id in browser.find_element(By.ID, "nav").text
    stored = browser.execute_script("return Object.keys(localStorage).length")
    assert stored == 0, "keys must stay out of localStorage"

    # Create a store through the form; it shows up in the list.
    name = unique("console")
    form = visible(browser, "form#create-sequence-store")
    form.find_element(By.NAME, "name").send_keys(name)
    form.find_element(By.NAME, "description").send_keys("made by the browser test")
    Select(form.find_element(By.NAME, "eTagAlgorithmFamily")).select_by_value("SHA256up")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    link = wait(browser, lambda d: next(iter(d.find_elements(By.LINK_TEXT, name)), None), what="the new store")
    stores = {s["name"]: s for s in client.list_sequence_stores()["sequenceStores"]}
    assert name in stores and stores[name]["eTagAlgorithmFamily"] == "SHA256up"
    store_id = stores[name]["id"]
    assert store_id in browser.find_element(By.ID, "sequence-stores").text
    store_shot = shot(browser, artifacts, "01-sequence-stores.png")

    # Upload a paired FASTQ.gz from the file inputs.
    link.click()
    wait(browser, lambda d: heading(d) == f"Sequence store {name}", what="the store page")
    visible(browser, "#upload-link").click()
    form = visible(browser, "form#upload-form")
    form.find_element(By.NAME, "name").send_keys("sample-1")
    form.find_element(By.NAME, "subjectId").send_keys("subject-1")
    form.find_element(By.NAME, "sampleId").send_keys("sample-1")
    Select(form.find_element(By.NAME, "sourceFileType")).select_by_value("FASTQ")
    form.find_element(By.NAME, "source1").send_keys(str(gz1))
    form.find_element(By.NAME, "source2").send_keys(str(gz2))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    total = gz1.stat().st_size + gz2.stat().st_size
    bar = visible(browser, "#upload-progress")
    wait(browser, lambda d: bar.get_attribute("aria-valuenow") == bar.get_attribute("aria-valuemax") == str(total),
         what=f"the progress bar at {total} of {total} bytes")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(total)
    assert bar.get_attribute("aria-valuetext") == "100 %"
    wait(browser, lambda d: d.find_element(By.ID, "upload-readset-status").text in ("ACTIVE", "UPLOAD_FAILED"),
         timeout=60, what="the read set to settle")
    assert browser.find_element(By.ID, "upload-readset-status").text == "ACTIVE", \
        browser.find_element(By.ID, "upload-status").text
    upload_shot = shot(browser, artifacts, "02-upload-done.png")

    # The read set's page: ACTIVE, the tools' ETag, both files with S3 URIs.
    read_set_link = browser.find_element(By.ID, "read-set-link")
    read_set_id = read_set_link.text.split()[-1]
    read_set_link.click()
    wait(browser, lambda d: d.find_element(By.ID, "readset-status").text == "ACTIVE", what="ACTIVE")
    assert heading(browser) == "Read set sample-1"
    assert browser.find_element(By.ID, "etag-algorithm").text == "FASTQ_SHA256up"
    assert browser.find_element(By.ID, "etag-source1").text == etag1
    assert browser.find_element(By.ID, "etag-source2").text == etag2
    meta = client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)
    page = browser.find_element(By.ID, "read-set").text
    for key in ("source1", "source2"):
        assert meta["files"][key]["s3Access"]["s3Uri"] in page
    wait(browser, lambda d: "No tags." in d.find_element(By.ID, "tags").text, 10, "the tags")
    read_set_shot = shot(browser, artifacts, "03-read-set-active.png")

    # Download source1: the bytes GetReadSet gives boto3, and the tools' ETag again.
    browser.find_element(By.ID, "download-source1").click()
    file_name = meta["files"]["source1"]["s3Access"]["s3Uri"].rsplit("/", 1)[-1]
    target = browser.downloads / file_name

    def downloaded(_):
        return target.is_file() and not [p for p in browser.downloads.iterdir() if p.suffix in (".crdownload", ".part")]
    wait(browser, downloaded, what=f"{file_name} in the download directory")
    parts = meta["files"]["source1"]["totalParts"]
    assert target.read_bytes() == get_read_set_bytes(client, store_id, read_set_id, "SOURCE1", parts)
    assert decompressed_hash(target, "SHA256up") == etag1
    download_bar = browser.find_element(By.ID, "download-progress-source1")
    assert download_bar.get_attribute("aria-valuenow") == str(meta["files"]["source1"]["contentLength"])

    # The store's list filters: by name and status, and one that matches nothing.
    browser.find_element(By.LINK_TEXT, store_id).click()
    filters = visible(browser, "form#read-set-filter")
    filters.find_element(By.NAME, "name").send_keys("sample-1")
    Select(filters.find_element(By.NAME, "status")).select_by_value("ACTIVE")
    filters.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: read_set_id in d.find_element(By.ID, "read-sets").text, what="the filtered list")
    filters.find_element(By.NAME, "sampleId").send_keys("nobody")
    filters.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "No read sets match." in d.find_element(By.ID, "read-sets").text,
         what="no match")

    # The jobs and reference store pages answer without errors.
    browser.execute_script(f"location.hash = '#/sequence-stores/{store_id}/jobs'")
    wait(browser, lambda d: d.find_element(By.ID, "export-jobs").text == "None.", what="the job lists")
    browser.execute_script("location.hash = '#/reference-stores'")
    wait(browser, lambda d: "No reference stores yet." in d.find_element(By.ID, "reference-stores").text,
         what="the reference stores")
    assert not browser.find_elements(By.CSS_SELECTOR, ".error")

    # Nothing but this server was asked for anything (Firefox: the page's resource timing, the
    # page being one document throughout).
    origin = urlsplit(server.endpoint)
    urls = requested_urls(browser) if browser.kind == "chromium" else browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert len(urls) > 10, urls
    for url in urls:
        parts_of = urlsplit(url)
        assert parts_of.scheme in ("data", "blob") or (parts_of.scheme, parts_of.netloc) == (
            origin.scheme, origin.netloc), f"the console asked another origin: {url}"
    if browser.kind == "chromium":
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors

    # Signing out forgets the keys.
    browser.find_element(By.ID, "sign-out").click()
    visible(browser, "form#sign-in")
    assert browser.execute_script("return sessionStorage.length") == 0

    for path in (store_shot, upload_shot, read_set_shot):
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC), path
    print(f"console screenshots in {artifacts} ({time.monotonic() - started:.1f} s)")


def test_console_wrong_secret_shows_the_signature_error(server, browser, artifacts):
    account_id = new_account_id()
    keys, _ = server.create_keys(account_id)
    store = server.client(keys).create_sequence_store(name=unique("hidden"))
    sign_in(browser, server.endpoint, keys.access_key_id, keys.secret_access_key[::-1])
    error = visible(browser, "#sign-in-error .error")
    assert error.find_element(By.CLASS_NAME, "error-type").text == "InvalidSignatureException"
    assert error.find_element(By.CLASS_NAME, "error-message").text.strip()
    assert heading(browser) == "Sign in"
    assert not browser.find_elements(By.ID, "sign-out")
    assert store["id"] not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.execute_script("return sessionStorage.length") == 0
    path = shot(browser, artifacts, "04-wrong-secret.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_console_activates_an_archived_read_set(server_factory, browser, artifacts, tmp_path):
    server = server_factory.new(config=ARCHIVING)
    account_id = new_account_id()
    keys, _ = server.create_keys(account_id)
    client = server.client(keys)
    store_id = client.create_sequence_store(name=unique("archive"))["id"]
    r1, _ = write_fastq_pair(tmp_path, "idle", 50, seed=17)
    _, read_set_id, _, _ = upload_read_set(client, store_id, "FASTQ", [gzip_file(r1, tmp_path / "idle.fastq.gz")],
                                           "idle", subjectId="s", sampleId="s")
    assert wait_read_set(client, store_id, read_set_id)["status"] == "ACTIVE"
    deadline = time.monotonic() + 60
    while client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)["status"] != "ARCHIVED":
        assert time.monotonic() < deadline, "the idle read set was not archived within 60 s"
        time.sleep(0.2)
    # Archiving off from here, so the activated read set stays ACTIVE while the page looks.
    assert server.stop() == 0
    server.extra_env[ARCHIVE_OFF] = "0"
    server.start()
    client = server.client(keys)  # the restarted server listens on a new port

    sign_in(browser, server.endpoint, keys.access_key_id, keys.secret_access_key)
    wait(browser, lambda d: heading(d) == "Sequence stores", what="the store list")
    browser.execute_script(f"location.hash = '#/sequence-stores/{store_id}/read-sets/{read_set_id}'")
    wait(browser, lambda d: d.find_element(By.ID, "readset-status").text == "ARCHIVED", what="ARCHIVED")
    assert not browser.find_elements(By.ID, "download-source1"), "an archived file offered for download"
    visible(browser, "#activate").click()
    wait(browser, lambda d: d.find_element(By.ID, "job-status").text == "COMPLETED", 60, "the activation job")
    items = browser.find_element(By.CSS_SELECTOR, "#job table tbody").text
    assert items.split() == [read_set_id, "FINISHED", "—"], items
    job_shot = shot(browser, artifacts, "05-activation-job.png")
    jobs = client.list_read_set_activation_jobs(sequenceStoreId=store_id)["activationJobs"]
    assert [j["status"] for j in jobs] == ["COMPLETED"]
    assert jobs[0]["id"] in heading(browser)

    browser.find_element(By.LINK_TEXT, read_set_id).click()
    wait(browser, lambda d: d.find_element(By.ID, "readset-status").text == "ACTIVE", what="ACTIVE again")
    visible(browser, "#download-source1")
    assert job_shot.read_bytes().startswith(PNG_MAGIC)
