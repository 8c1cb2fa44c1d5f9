// The console's DOM helpers: elements built with textContent only (nothing a server or a key's
// owner wrote is ever parsed as HTML), AWS errors shown as the service sent them.

import { AwsError } from "./api.js";

/** `h("div", {class: "x"}, "text", child)`: an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const main = () => document.getElementById("main");

export function show(...nodes) {
  main().replaceChildren(...nodes);
}

/** An error box: the AWS error code and message as the service sent them. */
export function errorBox(e) {
  const code = e instanceof AwsError ? e.code : "Error";
  return h("div", { class: "error", role: "alert", "data-testid": "error" }, h("strong", {}, code), ": ", e.message);
}

/** Runs `f`, showing its error in `slot` (replacing what was there). */
export async function attempt(slot, f) {
  slot.replaceChildren();
  try {
    return await f();
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return undefined;
  }
}

export function date(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z" : "";
}

export function table(headers, rows, attrs = {}) {
  return h("table", attrs, h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))), h("tbody", {}, rows));
}

