// The console's only way to the server: signed AWS API calls to this origin's `POST /`.
// KMS speaks AWS JSON 1.1; IAM and STS speak the query protocol with XML answers.

import { sign } from "./sigv4.js";

const STORAGE = "trent.console.credentials";

/** The signed-in credentials (this tab's session storage only), or null. */
export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE));
  } catch {
    return null;
  }
}

export function signIn(c) {
  sessionStorage.setItem(STORAGE, JSON.stringify(c));
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
}

/** An AWS error: `code` (`AccessDeniedException`, …) and the service's message. */
export class AwsError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

async function post(service, region, headers, body) {
  const c = credentials();
  if (!c) throw new AwsError("NotSignedIn", "Sign in first.", 0);
  const signed = await sign({ host: location.host, headers, body, service, region, credentials: c });
  return fetch("/", { method: "POST", headers: signed, body, credentials: "omit", cache: "no-store" });
}

/** An AWS JSON 1.1 call (`target` is its X-Amz-Target) in the signed-in Region; its JSON answer. */
async function json(service, target, input) {
  const c = credentials();
  const body = JSON.stringify(input);
  const res = await post(service, c ? c.region : "us-east-1", {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": target,
  }, body);
  const text = await res.text();
  const answer = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const code = String(answer.__type || "Error").split("#").pop();
    throw new AwsError(code, answer.message || answer.Message || "", res.status);
  }
  return answer;
}

/** Calls KMS operation `op` with `input`; its JSON answer. */
export function kms(op, input = {}) {
  return json("kms", `TrentService.${op}`, input);
}

/** CloudTrail operation `op` (LookupEvents, GetTrailStatus: the audit trail) with `input`. */
export function cloudtrail(op, input = {}) {
  return json("cloudtrail", `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.${op}`, input);
}

/** Calls IAM (`service` "iam") or STS action `action` with `params`; the parsed XML answer. */
export async function query(service, action, params = {}) {
  const version = service === "sts" ? "2011-06-15" : "2010-05-08";
  const form = new URLSearchParams({ Action: action, Version: version, ...params });
  const res = await post(service, "us-east-1", {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
  }, form.toString());
  const xml = new DOMParser().parseFromString(await res.text(), "application/xml");
  if (!res.ok) {
    const code = xml.querySelector("Error > Code")?.textContent || "Error";
    throw new AwsError(code, xml.querySelector("Error > Message")?.textContent || "", res.status);
  }
  return xml;
}

/** Every page of a paged KMS list (`Marker`/`NextMarker`), concatenated under `member`. */
export async function kmsAll(op, input, member) {
  let marker;
  const out = [];
  do {
    const page = await kms(op, { ...input, ...(marker ? { Marker: marker } : {}) });
    out.push(...(page[member] || []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

/** Base64 of bytes, and back (ciphertexts and signatures travel as base64 in AWS JSON). */
export function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
}
