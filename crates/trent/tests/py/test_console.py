"""The web console in a real browser (headless Chromium driven by Selenium through chromedriver),
against the real binary (issue 15). Run by tests/console.rs with TRENT_ENDPOINT, the admin's
access key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and TRENT_SCREENSHOTS, a directory the
main pages' screenshots are written to (not committed)."""

import json
import os
import sys

import boto3
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ENDPOINT = os.environ["TRENT_ENDPOINT"]
SHOTS = os.environ["TRENT_SCREENSHOTS"]


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=opts)


class Console:
    def __init__(self, driver):
        self.d = driver
        self.wait = WebDriverWait(driver, 15)

    def el(self, css):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(self, css):
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def type(self, css, text, clear=True):
        e = self.el(css)
        if clear:
            e.clear()
        e.send_keys(text)

    def text_appears(self, css, text):
        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        self.d.save_screenshot(os.path.join(SHOTS, f"{name}.png"))

    def sign_in(self, ak, sk, region="us-east-1"):
        self.d.get(f"{ENDPOINT}/console/")
        self.type("#access-key-id", ak)
        self.type("#secret-access-key", sk)
        self.type("#region", region)
        self.click("#signin-submit")


def main():
    ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=ENDPOINT)
    account = boto3.client("sts", region_name="us-east-1", endpoint_url=ENDPOINT).get_caller_identity()["Account"]
    d = browser()
    c = Console(d)
    try:
        # Sign in: a wrong secret is refused with the service's own error.
        c.sign_in(ak, "wrong" + sk[5:])
        c.text_appears("[data-testid=error]", "SignatureDoesNotMatch")
        c.sign_in(ak, sk)
        c.el("#keys-table")
        c.text_appears("#who", ak)

        # Create a key; its page shows it.
        c.type("#new-key-description", "made in the console")
        c.click("#create-key-submit")
        c.text_appears("#key-config", "made in the console")
        key_id = d.current_url.rsplit("/", 1)[1]
        assert len(key_id) == 36, d.current_url

        # An alias and a tag.
        c.type("#new-alias", "alias/console-test")
        c.click("#add-alias")
        c.text_appears("#aliases", "alias/console-test")
        c.type("#new-tag-key", "team")
        c.type("#new-tag-value", "security")
        c.click("#add-tag")
        c.text_appears("#tags", "security")

        # The policy editor: malformed JSON is caught before it is sent; a policy that would lock
        # the caller out gets the service's lockout error; a good one saves.
        editor = c.el("#policy-editor")
        original = editor.get_attribute("value")
        assert json.loads(original)["Statement"], original
        editor.clear()
        editor.send_keys('{"Statement": [')
        c.text_appears("#policy-notes", "Not JSON")
        lockout = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:Decrypt", "Resource": "*"}
            ],
        }
        d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", editor, json.dumps(lockout))
        c.click("#save-policy")
        c.text_appears("[data-testid=error]", "MalformedPolicyDocumentException")
        c.text_appears("[data-testid=error]", "will not allow you to update the key policy in the future")
        c.shot("key")
        d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", editor, original)
        c.click("#save-policy")
        c.el("#policy-saved")

        # Who can do what: the account root may, by the key policy statement that names it.
        c.type("#whocan-principal", f"arn:aws:iam::{account}:root")
        Select(c.el("#whocan-action")).select_by_value("kms:PutKeyPolicy")
        c.click("#whocan-explain")
        c.text_appears("#whocan-decision", "allowed")
        c.text_appears("#whocan-statements", "key-policy/statement-0")

        # Rotation: on, rotate now; the timeline shows the on-demand rotation.
        c.click("#enable-rotation")
        c.el("#disable-rotation")
        c.click("#rotate-now")
        c.text_appears("#rotations", "on demand rotation")

        # Keys list: filters by alias, state and tag.
        d.get(f"{ENDPOINT}/console/#/keys")
        c.el("#keys-table")
        c.type("#filter-text", "console-test")
        c.text_appears("#key-list", key_id)
        c.type("#filter-text", "team=security")
        c.text_appears("#key-list", key_id)
        Select(c.el("#filter-state")).select_by_value("Disabled")
        c.text_appears("#key-list", "0 of")
        c.shot("keys")

        # Playground: encrypt then decrypt through the alias.
        d.get(f"{ENDPOINT}/console/#/playground")
        c.type("#play-key", "alias/console-test")
        c.type("#play-text", "hello from the browser")
        c.type("#play-context", '{"purpose": "test"}')
        c.click("#play-encrypt")
        c.text_appears("#play-result", "Encrypted under arn:aws:kms:")
        blob = c.el("#play-blob").get_attribute("value")
        assert len(blob) > 100, blob
        c.el("#play-text").clear()
        c.click("#play-decrypt")
        c.text_appears("#play-result", "hello from the browser")
        c.shot("playground")
        # The wrong encryption context: the service's error, as AWS words it (no message).
        c.type("#play-context", '{"purpose": "other"}')
        c.click("#play-decrypt")
        c.text_appears("[data-testid=error]", "InvalidCiphertextException")

        # The audit trail, from the key's page: its requests newest first and the chart of
        # requests per key; then the whole trail's failed requests; then one event name.
        d.get(f"{ENDPOINT}/console/#/key/{key_id}")
        c.click("#key-activity")
        c.el("#audit-table")
        c.text_appears("#audit-table", "Decrypt")
        c.text_appears("#audit-table", "CreateAlias")
        c.text_appears("#audit-table", "TagResource")
        # A request that failed after authorization names its key (the refused lockout policy).
        c.text_appears("#audit-table", "MalformedPolicyDocumentException")
        c.el("#activity-chart")
        c.text_appears("#trail-status", "Chain verification: intact")
        c.shot("audit")
        Select(c.el("#audit-attribute")).select_by_value("EventSource")
        c.type("#audit-value", "sts.amazonaws.com")
        c.click("#audit-search")
        c.text_appears("#audit-table", "GetCallerIdentity")
        Select(c.el("#audit-attribute")).select_by_value("EventName")
        c.type("#audit-value", "Decrypt")
        c.click("#audit-search")
        Select(c.el("#audit-outcome")).select_by_value("error")
        c.text_appears("#audit-table", "InvalidCiphertextException")
        c.text_appears("#audit-list", "1 events")
        c.type("#audit-value", "PutKeyPolicy")
        Select(c.el("#audit-outcome")).select_by_value("")
        c.click("#audit-search")
        c.text_appears("#audit-table", "MalformedPolicyDocumentException")
        c.text_appears("#audit-list", "2 events")

        # A signing key made in the console, found by its spec, signs and verifies in the playground.
        d.get(f"{ENDPOINT}/console/#/keys")
        Select(c.el("#new-key-spec")).select_by_value("ECC_NIST_P256")
        Select(c.el("#new-key-usage")).select_by_value("SIGN_VERIFY")
        c.type("#new-key-description", "signer")
        c.click("#create-key-submit")
        c.text_appears("#key-config", "ECDSA_SHA_256")
        signer = d.current_url.rsplit("/", 1)[1]
        d.get(f"{ENDPOINT}/console/#/keys")
        Select(c.el("#filter-spec")).select_by_value("ECC_NIST_P256")
        c.text_appears("#key-list", signer)
        d.get(f"{ENDPOINT}/console/#/playground")
        c.type("#play-key", signer)
        c.type("#play-text", "signed in the browser")
        c.type("#play-algorithm", "ECDSA_SHA_256")
        c.click("#play-sign")
        c.text_appears("#play-result", "(ECDSA_SHA_256)")
        c.click("#play-verify")
        c.text_appears("#play-result", "Signature valid: true")

        # Paging: more keys than a page holds.
        kms = boto3.client("kms", region_name="us-east-1", endpoint_url=ENDPOINT)
        for _ in range(50):
            kms.create_key(Description="filler")
        d.get(f"{ENDPOINT}/console/#/keys")
        c.text_appears("#key-list", "50 of 50 keys on this page")
        c.click("#keys-next")
        c.text_appears("#key-pager", "Page 2")
        c.el("#keys-previous")
        c.text_appears("#key-list", "of 2 keys on this page")

        # IAM pages list users.
        iam.create_user(UserName="console-nobody")
        nobody = iam.create_access_key(UserName="console-nobody")["AccessKey"]
        d.get(f"{ENDPOINT}/console/#/iam")
        c.text_appears("#users", "console-nobody")
        c.shot("iam")

        # External key stores: the page lists none; creating one whose proxy cannot be reached
        # shows the service's XksProxyUriUnreachableException, and nothing is listed.
        d.get(f"{ENDPOINT}/console/#/keystores")
        c.el("#stores")
        c.type("#store-name", "console-hyok")
        c.type("#store-endpoint", "https://localhost:1")
        c.type("#store-access-key-id", "ABCDEFGHIJKLMNOPQRSTUVWX")
        c.type("#store-secret", "A" * 44)
        c.click("#create-store-submit")
        c.text_appears("[data-testid=error]", "XksProxyUriUnreachableException")
        assert "console-hyok" not in c.el("#stores").text
        c.shot("key-stores")
        # The user may not use the key: the key policy trusts the account, no identity policy allows.
        d.get(f"{ENDPOINT}/console/#/key/{key_id}")
        c.type("#whocan-principal", f"arn:aws:iam::{account}:user/console-nobody")
        Select(c.el("#whocan-action")).select_by_value("kms:Decrypt")
        c.click("#whocan-explain")
        c.text_appears("#whocan-decision", "implicitDeny")
        c.text_appears("#whocan-decision", "no identity policy allows")
        c.shot("who-can")

        # A principal without permission sees AccessDenied, worded by the service.
        c.click("#signout")
        c.sign_in(nobody["AccessKeyId"], nobody["SecretAccessKey"])
        c.text_appears("[data-testid=error]", "AccessDeniedException")
        c.text_appears("[data-testid=error]", "is not authorized to perform: kms:ListKeys")
        c.shot("denied")
        d.get(f"{ENDPOINT}/console/#/audit")
        c.text_appears("#main", "is not authorized to perform: cloudtrail:LookupEvents")
        c.text_appears("#trail-status", "is not authorized to perform: cloudtrail:GetTrailStatus")

        # Nothing the policy blocked, and no script error.
        problems = [
            e["message"]
            for e in d.get_log("browser")
            if e["level"] == "SEVERE" and ("Content Security Policy" in e["message"] or "Uncaught" in e["message"])
        ]
        assert not problems, problems
    except Exception:
        c.shot("failure")
        print(d.page_source[:4000])
        raise
    finally:
        d.quit()
    print("all console checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
