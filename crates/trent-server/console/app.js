// Trent's console: pages over the AWS API (api.js). Every action is a signed request, so what
// a person may see or change is exactly what key policies, IAM policies and grants allow them,
// and it is audited like any client's call. The DOM is built with textContent only: nothing a
// server or a key's owner wrote is ever parsed as HTML.

import { cloudtrail, credentials, fromBase64, kms, kmsAll, query, signIn, signOut, toBase64 } from "./api.js";
import { keyStoresPage } from "./keystores.js";
import { attempt, date, errorBox, h, show, table } from "./ui.js";

// --- sign-in ---------------------------------------------------------------------------------

function signInPage() {
  const slot = h("div");
  const form = h(
    "form",
    {
      id: "signin",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = new FormData(form);
        signIn({
          accessKeyId: String(f.get("accessKeyId")).trim(),
          secretAccessKey: String(f.get("secretAccessKey")).trim(),
          region: String(f.get("region")).trim() || "us-east-1",
        });
        const who = await attempt(slot, () => query("sts", "GetCallerIdentity"));
        if (!who) {
          signOut();
          return;
        }
        if (location.hash === "#/keys") render();
        else location.hash = "#/keys";
      },
    },
    h("h1", {}, "Sign in"),
    h("p", {}, "Use an access key of this Trent deployment. It stays in this tab only and is sent nowhere: requests carry SigV4 signatures."),
    h("label", {}, "Access key id", h("input", { name: "accessKeyId", id: "access-key-id", autocomplete: "off", required: true })),
    h("label", {}, "Secret access key", h("input", { name: "secretAccessKey", id: "secret-access-key", type: "password", autocomplete: "off", required: true })),
    h("label", {}, "Region", h("input", { name: "region", id: "region", value: "us-east-1" })),
    h("button", { type: "submit", id: "signin-submit" }, "Sign in"),
    slot,
  );
  show(form);
}

// --- keys ------------------------------------------------------------------------------------

/** Keys listed per page of ListKeys (`PAGE` at a time, DescribeKey for each shown). */
const PAGE = 50;

async function keysPage() {
  const slot = h("div");
  const filters = h(
    "form",
    { class: "filters", onsubmit: (ev) => ev.preventDefault() },
    h("input", { id: "filter-text", placeholder: "alias, key id or tag key=value (this page)" }),
    select("filter-state", ["", "Enabled", "Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Creating", "Updating"]),
    select("filter-spec", ["", "SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"]),
    select("filter-usage", ["", "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"]),
    select("filter-manager", ["", "CUSTOMER", "AWS"]),
  );
  const list = h("div", { id: "key-list" }, "Loading…");
  const pager = h("div", { class: "inline", id: "key-pager" });
  show(h("h1", {}, "Keys"), createKeyForm(), filters, slot, list, pager);
  const aliases = await attempt(slot, async () => {
    // ListKeys first: a caller without it sees that refusal.
    await kms("ListKeys", { Limit: 1 });
    return kmsAll("ListAliases", { Limit: 100 }, "Aliases");
  });
  if (!aliases) {
    list.replaceChildren();
    return;
  }
  const byKey = new Map();
  for (const a of aliases) if (a.TargetKeyId) byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) || []), a.AliasName]);
  // markers[i] opens page i; a page's NextMarker opens the next.
  const markers = [undefined];
  let index = 0;
  let data = [];
  const tags = new Map();
  // Drawing may wait for tags: only the newest draw (the filters as they are now) is shown.
  let generation = 0;
  const draw = async () => {
    const mine = ++generation;
    const text = document.getElementById("filter-text").value.trim();
    const state = document.getElementById("filter-state").value;
    const usage = document.getElementById("filter-usage").value;
    const manager = document.getElementById("filter-manager").value;
    const spec = document.getElementById("filter-spec").value;
    let rows = data.filter(
      (m) =>
        (!state || m.KeyState === state) &&
        (!usage || m.KeyUsage === usage) &&
        (!manager || m.KeyManager === manager) &&
        (!spec || m.KeySpec === spec),
    );
    if (text.includes("=")) {
      // A tag filter reads the tags of the customer managed keys shown (once each).
      const [tk, tv] = text.split("=", 2).map((s) => s.trim());
      for (const m of rows) {
        if (m.KeyManager === "CUSTOMER" && !tags.has(m.KeyId)) {
          tags.set(m.KeyId, await kmsAll("ListResourceTags", { KeyId: m.KeyId }, "Tags").catch(() => []));
        }
      }
      rows = rows.filter((m) => (tags.get(m.KeyId) || []).some((t) => t.TagKey === tk && (!tv || t.TagValue === tv)));
      if (mine !== generation) return;
    } else if (text) {
      rows = rows.filter((m) => m.KeyId.includes(text) || m.Aliases.some((a) => a.includes(text)) || (m.Description || "").includes(text));
    }
    list.replaceChildren(
      table(
        ["Aliases", "Key id", "State", "Spec", "Usage", "Manager", "Created"],
        rows.map((m) =>
          h(
            "tr",
            {},
            h("td", {}, m.Aliases.join(", ")),
            h("td", {}, h("a", { href: `#/key/${encodeURIComponent(m.KeyId)}`, class: "key-link" }, m.KeyId)),
            h("td", {}, m.KeyState),
            h("td", {}, m.KeySpec || ""),
            h("td", {}, m.KeyUsage || ""),
            h("td", {}, m.KeyManager || ""),
            h("td", {}, date(m.CreationDate)),
          ),
        ),
        { id: "keys-table" },
      ),
      h("p", {}, `${rows.length} of ${data.length} keys on this page`),
    );
  };
  const load = async (i) => {
    const page = await attempt(slot, () => kms("ListKeys", { Limit: PAGE, ...(markers[i] ? { Marker: markers[i] } : {}) }));
    if (!page) return;
    index = i;
    if (page.Truncated) markers[i + 1] = page.NextMarker;
    data = (
      await Promise.all(
        (page.Keys || []).map((k) => kms("DescribeKey", { KeyId: k.KeyId }).then((d) => d.KeyMetadata, () => ({ KeyId: k.KeyId, KeyState: "?" }))),
      )
    ).map((m) => ({ ...m, Aliases: byKey.get(m.KeyId) || [] }));
    pager.replaceChildren(
      index > 0 ? h("button", { id: "keys-previous", onclick: () => load(index - 1) }, "Previous page") : null,
      h("span", {}, `Page ${index + 1}`),
      page.Truncated ? h("button", { id: "keys-next", onclick: () => load(index + 1) }, "Next page") : null,
    );
    await draw();
  };
  filters.addEventListener("input", draw);
  filters.addEventListener("change", draw);
  await load(0);
}

function select(id, options) {
  return h("select", { id }, options.map((o) => h("option", { value: o }, o || "any")));
}

function createKeyForm() {
  const slot = h("div");
  const form = h(
    "form",
    {
      id: "create-key",
      class: "inline",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = new FormData(form);
        const input = { Description: String(f.get("description")), KeySpec: String(f.get("spec")) };
        if (input.KeySpec !== "SYMMETRIC_DEFAULT") input.KeyUsage = String(f.get("usage"));
        if (f.get("multiRegion")) input.MultiRegion = true;
        if (f.get("store")) {
          input.Origin = "EXTERNAL_KEY_STORE";
          input.CustomKeyStoreId = String(f.get("store"));
          input.XksKeyId = String(f.get("xksKeyId"));
        }
        const made = await attempt(slot, () => kms("CreateKey", input));
        if (made) location.hash = `#/key/${encodeURIComponent(made.KeyMetadata.KeyId)}`;
      },
    },
    h("input", { name: "description", id: "new-key-description", placeholder: "description" }),
    h("select", { name: "spec", id: "new-key-spec" }, ["SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "HMAC_256", "HMAC_512"].map((s) => h("option", { value: s }, s))),
    h("select", { name: "usage", id: "new-key-usage" }, ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"].map((s) => h("option", { value: s }, s))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "multiRegion" }), "multi-Region"),
    h("input", { name: "store", id: "new-key-store", placeholder: "external key store (cks-…)" }),
    h("input", { name: "xksKeyId", id: "new-key-xks-id", placeholder: "external key id" }),
    h("button", { type: "submit", id: "create-key-submit" }, "Create key"),
    slot,
  );
  return form;
}

// --- one key ---------------------------------------------------------------------------------

async function keyPage(keyId) {
  const slot = h("div");
  show(h("h1", {}, "Key ", h("code", {}, keyId)), slot, h("p", {}, "Loading…"));
  const m = await attempt(slot, async () => (await kms("DescribeKey", { KeyId: keyId })).KeyMetadata);
  if (!m) return;
  const customer = m.KeyManager === "CUSTOMER";
  const sections = [
    h("h1", {}, "Key ", h("code", {}, m.KeyId)),
    h("p", {}, h("a", { href: `#/audit/${encodeURIComponent(m.KeyId)}`, id: "key-activity" }, "Activity of this key in the audit trail")),
    slot,
    configuration(m),
  ];
  if (customer) sections.push(stateActions(m));
  sections.push(
    await aliasesSection(m),
    await tagsSection(m),
    await rotationSection(m),
    await grantsSection(m),
    await policySection(m),
    whoCanSection(m),
  );
  show(...sections);
}

function configuration(m) {
  const rows = [
    ["ARN", m.Arn],
    ["Description", m.Description],
    ["State", m.KeyState],
    ["Key spec", m.KeySpec],
    ["Key usage", m.KeyUsage],
    ["Origin", m.Origin],
    ["Key manager", m.KeyManager],
    ["Created", date(m.CreationDate)],
    ["Deletion date", date(m.DeletionDate)],
    ["Multi-Region", m.MultiRegion ? `${m.MultiRegionConfiguration?.MultiRegionKeyType} (primary in ${m.MultiRegionConfiguration?.PrimaryKey?.Region})` : "no"],
    ["Current key material", m.CurrentKeyMaterialId || ""],
    ["Custom key store", m.CustomKeyStoreId || ""],
    ["External key", m.XksKeyConfiguration?.Id || ""],
    ["Algorithms", [...(m.EncryptionAlgorithms || []), ...(m.SigningAlgorithms || []), ...(m.MacAlgorithms || []), ...(m.KeyAgreementAlgorithms || [])].join(", ")],
  ];
  return h("section", {}, h("h2", {}, "Configuration"), table(["", ""], rows.filter(([, v]) => v).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { "data-field": k }, v))), { id: "key-config" }));
}

function action(label, id, f, slot) {
  return h("button", { id, onclick: async () => { if ((await attempt(slot, f)) !== undefined) render(); } }, label);
}

function stateActions(m) {
  const slot = h("div");
  const id = m.KeyId;
  const buttons = [];
  if (m.KeyState === "Enabled") buttons.push(action("Disable", "disable-key", () => kms("DisableKey", { KeyId: id }), slot));
  if (m.KeyState === "Disabled") buttons.push(action("Enable", "enable-key", () => kms("EnableKey", { KeyId: id }), slot));
  if (m.KeyState === "PendingDeletion" || m.KeyState === "PendingReplicaDeletion") {
    buttons.push(action("Cancel deletion", "cancel-deletion", () => kms("CancelKeyDeletion", { KeyId: id }), slot));
  } else {
    const days = h("input", { id: "deletion-days", type: "number", min: 7, max: 30, value: 30 });
    buttons.push(days, action("Schedule deletion", "schedule-deletion", () => kms("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: Number(days.value) }), slot));
  }
  return h("section", {}, h("h2", {}, "State"), h("div", { class: "inline" }, buttons), slot);
}

async function aliasesSection(m) {
  const slot = h("div");
  const aliases = await kmsAll("ListAliases", { KeyId: m.KeyId }, "Aliases").catch((e) => (slot.replaceChildren(errorBox(e)), []));
  const name = h("input", { id: "new-alias", placeholder: "alias/name" });
  return h(
    "section",
    {},
    h("h2", {}, "Aliases"),
    h("ul", { id: "aliases" }, aliases.map((a) => h("li", {}, a.AliasName, " ", action("Delete", undefined, () => kms("DeleteAlias", { AliasName: a.AliasName }), slot)))),
    h("div", { class: "inline" }, name, action("Add alias", "add-alias", () => kms("CreateAlias", { AliasName: name.value.trim(), TargetKeyId: m.KeyId }), slot)),
    slot,
  );
}

async function tagsSection(m) {
  const slot = h("div");
  if (m.KeyManager !== "CUSTOMER") return h("section", {}, h("h2", {}, "Tags"), h("p", {}, "AWS managed keys have no tags."));
  const tags = await kmsAll("ListResourceTags", { KeyId: m.KeyId }, "Tags").catch((e) => (slot.replaceChildren(errorBox(e)), []));
  const k = h("input", { id: "new-tag-key", placeholder: "key" });
  const v = h("input", { id: "new-tag-value", placeholder: "value" });
  return h(
    "section",
    {},
    h("h2", {}, "Tags"),
    table(["Key", "Value", ""], tags.map((t) => h("tr", {}, h("td", {}, t.TagKey), h("td", {}, t.TagValue), h("td", {}, action("Remove", undefined, () => kms("UntagResource", { KeyId: m.KeyId, TagKeys: [t.TagKey] }), slot)))), { id: "tags" }),
    h("div", { class: "inline" }, k, v, action("Add tag", "add-tag", () => kms("TagResource", { KeyId: m.KeyId, Tags: [{ TagKey: k.value, TagValue: v.value }] }), slot)),
    slot,
  );
}

async function rotationSection(m) {
  const slot = h("div");
  const status = await kms("GetKeyRotationStatus", { KeyId: m.KeyId }).catch(() => null);
  const rotations = await kmsAll("ListKeyRotations", { KeyId: m.KeyId }, "Rotations").catch(() => []);
  const period = h("input", { id: "rotation-days", type: "number", min: 90, max: 2560, value: status?.RotationPeriodInDays || 365 });
  const controls = m.KeyManager === "CUSTOMER" && m.KeySpec === "SYMMETRIC_DEFAULT"
    ? h(
        "div",
        { class: "inline" },
        status?.KeyRotationEnabled
          ? action("Disable automatic rotation", "disable-rotation", () => kms("DisableKeyRotation", { KeyId: m.KeyId }), slot)
          : [period, action("Enable automatic rotation", "enable-rotation", () => kms("EnableKeyRotation", { KeyId: m.KeyId, RotationPeriodInDays: Number(period.value) }), slot)],
        action("Rotate now", "rotate-now", () => kms("RotateKeyOnDemand", { KeyId: m.KeyId }), slot),
      )
    : null;
  const timeline = h(
    "ol",
    { class: "timeline", id: "rotations" },
    h("li", {}, h("time", {}, date(m.CreationDate)), " created"),
    [...rotations]
      .sort((a, b) => (a.RotationDate || 0) - (b.RotationDate || 0))
      .map((r) => h("li", {}, h("time", {}, date(r.RotationDate)), ` ${(r.RotationType || "").toLowerCase().replace("_", " ")} rotation → `, h("code", {}, (r.KeyMaterialId || "").slice(0, 16) + "…"))),
    status?.NextRotationDate ? h("li", { class: "future" }, h("time", {}, date(status.NextRotationDate)), " next automatic rotation") : null,
  );
  return h(
    "section",
    {},
    h("h2", {}, "Rotation"),
    h("p", {}, status?.KeyRotationEnabled ? `Automatic, every ${status.RotationPeriodInDays} days.` : "Automatic rotation is off."),
    controls,
    timeline,
    slot,
  );
}

async function grantsSection(m) {
  const slot = h("div");
  const grants = await kmsAll("ListGrants", { KeyId: m.KeyId }, "Grants").catch((e) => (slot.replaceChildren(errorBox(e)), []));
  return h(
    "section",
    {},
    h("h2", {}, "Grants"),
    table(
      ["Name", "Grantee", "Operations", "Constraints", "Created", ""],
      grants.map((g) =>
        h(
          "tr",
          {},
          h("td", {}, g.Name || ""),
          h("td", {}, g.GranteePrincipal),
          h("td", {}, (g.Operations || []).join(", ")),
          h("td", {}, g.Constraints ? JSON.stringify(g.Constraints) : ""),
          h("td", {}, date(g.CreationDate)),
          h("td", {}, action("Revoke", undefined, () => kms("RevokeGrant", { KeyId: m.KeyId, GrantId: g.GrantId }), slot)),
        ),
      ),
      { id: "grants" },
    ),
    slot,
  );
}

/** Shape checks of a key policy before it is sent (the service checks everything again). */
function policyProblems(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return [`Not JSON: ${e.message}`];
  }
  const problems = [];
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return ["A policy is a JSON object."];
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  if (!statements.length) problems.push("The policy has no Statement.");
  statements.forEach((s, i) => {
    if (s.Effect !== "Allow" && s.Effect !== "Deny") problems.push(`Statement ${i + 1}: Effect must be Allow or Deny.`);
    if (!s.Principal && !s.NotPrincipal) problems.push(`Statement ${i + 1}: a key policy statement needs a Principal.`);
    if (!s.Action && !s.NotAction) problems.push(`Statement ${i + 1}: Action is missing.`);
  });
  if (text.length > 32768) problems.push("Key policies are at most 32 KB.");
  return problems;
}

async function policySection(m) {
  const slot = h("div");
  const policy = await kms("GetKeyPolicy", { KeyId: m.KeyId, PolicyName: "default" }).catch((e) => (slot.replaceChildren(errorBox(e)), null));
  let pretty = policy?.Policy || "";
  try {
    pretty = JSON.stringify(JSON.parse(pretty), null, 2);
  } catch {
    // shown as stored
  }
  const editor = h("textarea", { id: "policy-editor", rows: 18, spellcheck: "false" });
  editor.value = pretty;
  const notes = h("div", { id: "policy-notes" });
  const check = () => {
    const problems = policyProblems(editor.value);
    notes.replaceChildren(...problems.map((p) => h("p", { class: "warning" }, p)));
    return problems.length === 0;
  };
  editor.addEventListener("input", check);
  const save = h(
    "button",
    {
      id: "save-policy",
      onclick: async () => {
        if (!check()) return;
        if ((await attempt(slot, () => kms("PutKeyPolicy", { KeyId: m.KeyId, PolicyName: "default", Policy: editor.value }))) !== undefined) {
          slot.replaceChildren(h("p", { class: "ok", id: "policy-saved" }, "Saved."));
        }
      },
    },
    "Save policy",
  );
  return h("section", {}, h("h2", {}, "Key policy"), editor, notes, m.KeyManager === "CUSTOMER" ? save : null, slot);
}

const KMS_ACTIONS = [
  "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
  "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:GetPublicKey", "kms:DescribeKey", "kms:GetKeyPolicy",
  "kms:PutKeyPolicy", "kms:CreateGrant", "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:TagResource",
];

/** "Who can do what with this key": IAM's SimulatePrincipalPolicy, read-only. */
function whoCanSection(m) {
  const slot = h("div", { id: "whocan-result" });
  const principal = h("input", { id: "whocan-principal", placeholder: `arn:aws:iam::${m.AWSAccountId}:user/alice` });
  const action = h("select", { id: "whocan-action" }, KMS_ACTIONS.map((a) => h("option", { value: a }, a)));
  const context = h("input", { id: "whocan-context", placeholder: 'encryption context, e.g. {"purpose":"test"}' });
  const explain = h(
    "button",
    {
      id: "whocan-explain",
      onclick: async () => {
        const params = { PolicySourceArn: principal.value.trim(), "ActionNames.member.1": action.value, "ResourceArns.member.1": m.Arn };
        if (context.value.trim()) {
          Object.entries(JSON.parse(context.value)).forEach(([k, v], i) => {
            params[`ContextEntries.member.${i + 1}.ContextKeyName`] = `kms:EncryptionContext:${k}`;
            params[`ContextEntries.member.${i + 1}.ContextKeyValues.member.1`] = String(v);
            params[`ContextEntries.member.${i + 1}.ContextKeyType`] = "string";
          });
        }
        const xml = await attempt(slot, () => query("iam", "SimulatePrincipalPolicy", params));
        if (!xml) return;
        const result = xml.getElementsByTagName("EvaluationResults")[0]?.getElementsByTagName("member")[0];
        if (!result) return;
        const text = (tag) => result.getElementsByTagName(tag)[0]?.textContent || "";
        const decision = text("EvalDecision");
        const statements = Array.from(result.getElementsByTagName("MatchedStatements")[0]?.getElementsByTagName("member") || []);
        slot.replaceChildren(
          h("p", { class: decision === "allowed" ? "ok" : "warning", id: "whocan-decision" }, h("strong", {}, decision), " — ", text("value")),
          h("ul", { id: "whocan-statements" }, statements.map((s) => h("li", {}, s.getElementsByTagName("SourcePolicyId")[0]?.textContent || "", ` (${s.getElementsByTagName("SourcePolicyType")[0]?.textContent || ""})`))),
        );
      },
    },
    "Explain",
  );
  return h(
    "section",
    {},
    h("h2", {}, "Who can do what"),
    h("p", {}, "The decision for a principal and action on this key, and the statements or grants that made it (IAM SimulatePrincipalPolicy)."),
    h("div", { class: "inline" }, principal, action, context, explain),
    slot,
  );
}

// --- playground ------------------------------------------------------------------------------

function playgroundPage() {
  const out = h("div", { id: "playground-out" });
  const keyInput = h("input", { id: "play-key", placeholder: "key id, ARN or alias/name" });
  const text = h("textarea", { id: "play-text", rows: 4, placeholder: "plaintext or message" });
  const context = h("input", { id: "play-context", placeholder: 'encryption context, e.g. {"purpose":"test"}' });
  const blob = h("textarea", { id: "play-blob", rows: 4, placeholder: "ciphertext or signature (base64)" });
  const algorithm = h("input", { id: "play-algorithm", placeholder: "signing algorithm (e.g. ECDSA_SHA_256)" });
  const ec = () => (context.value.trim() ? { EncryptionContext: JSON.parse(context.value) } : {});
  const message = () => toBase64(new TextEncoder().encode(text.value));
  const run = (id, label, f) =>
    h("button", {
      id,
      onclick: async () => {
        const r = await attempt(out, f);
        if (r !== undefined) out.replaceChildren(h("pre", { id: "play-result" }, r));
      },
    }, label);
  show(
    h("h1", {}, "Playground"),
    h("p", {}, "Cryptographic operations with a key, as the signed-in principal."),
    keyInput,
    text,
    context,
    blob,
    algorithm,
    h(
      "div",
      { class: "inline" },
      run("play-encrypt", "Encrypt", async () => {
        const r = await kms("Encrypt", { KeyId: keyInput.value.trim(), Plaintext: message(), ...ec() });
        blob.value = r.CiphertextBlob;
        return `Encrypted under ${r.KeyId}`;
      }),
      run("play-decrypt", "Decrypt", async () => {
        const r = await kms("Decrypt", { CiphertextBlob: blob.value.trim(), ...ec(), ...(keyInput.value.trim() ? { KeyId: keyInput.value.trim() } : {}) });
        text.value = new TextDecoder().decode(fromBase64(r.Plaintext));
        return `Decrypted by ${r.KeyId}: ${text.value}`;
      }),
      run("play-sign", "Sign", async () => {
        const r = await kms("Sign", { KeyId: keyInput.value.trim(), Message: message(), SigningAlgorithm: algorithm.value.trim() });
        blob.value = r.Signature;
        return `Signed by ${r.KeyId} (${r.SigningAlgorithm})`;
      }),
      run("play-verify", "Verify", async () => {
        const r = await kms("Verify", { KeyId: keyInput.value.trim(), Message: message(), Signature: blob.value.trim(), SigningAlgorithm: algorithm.value.trim() });
        return `Signature valid: ${r.SignatureValid}`;
      }),
    ),
    out,
  );
}

// --- audit trail -----------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const COLORS = ["#2f5bd3", "#d35f2f", "#1e7a3c", "#8a3fd1", "#b3261e", "#0a7f8f"];

/** Requests per key over time: one line per key (the six busiest), events counted in 24 buckets. */
function activityChart(events) {
  const times = events.map((e) => e.EventTime);
  const perKey = new Map();
  for (const e of events) {
    for (const r of e.Resources || []) {
      if (r.ResourceType !== "AWS::KMS::Key") continue;
      const id = r.ResourceName.split("/").pop();
      perKey.set(id, [...(perKey.get(id) || []), e.EventTime]);
    }
  }
  const keys = [...perKey.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, COLORS.length);
  if (!keys.length) return h("p", { id: "chart-empty" }, "No key activity in these events.");
  const [lo, hi] = [Math.min(...times), Math.max(...times)];
  const buckets = 24;
  const width = Math.max(hi - lo, 1) / buckets;
  const counts = keys.map(([, ts]) => {
    const c = new Array(buckets).fill(0);
    for (const t of ts) c[Math.min(buckets - 1, Math.floor((t - lo) / width))] += 1;
    return c;
  });
  const top = Math.max(1, ...counts.flat());
  const [W, H, pad] = [720, 180, 28];
  const x = (i) => pad + (i * (W - 2 * pad)) / (buckets - 1);
  const y = (n) => H - pad - (n * (H - 2 * pad)) / top;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": "requests per key over time", id: "activity-chart" },
    svg("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "#999" }),
    svg("text", { x: pad, y: H - 6, "font-size": 11, fill: "#555" }, date(lo)),
    svg("text", { x: W - pad, y: H - 6, "font-size": 11, fill: "#555", "text-anchor": "end" }, date(hi)),
    svg("text", { x: 2, y: pad, "font-size": 11, fill: "#555" }, String(top)),
    ...counts.map((c, k) =>
      svg("polyline", { fill: "none", stroke: COLORS[k], "stroke-width": 2, points: c.map((n, i) => `${x(i)},${y(n)}`).join(" ") }),
    ),
  );
  const legend = h("ul", { class: "legend" }, keys.map(([id, ts], k) => h("li", {}, h("span", { class: `swatch c${k}` }), `${id} (${ts.length})`)));
  return h("div", {}, chart, legend);
}

async function auditPage(preset) {
  const slot = h("div");
  const key = h("select", { id: "audit-attribute" }, ["", "ResourceName", "EventName", "Username", "AccessKeyId", "EventSource", "ReadOnly"].map((o) => h("option", { value: o }, o || "no filter")));
  const value = h("input", { id: "audit-value", placeholder: "value (a key id, Encrypt, alice…)" });
  const outcome = h("select", { id: "audit-outcome" }, ["", "success", "error"].map((o) => h("option", { value: o }, o || "any outcome")));
  const from = h("input", { id: "audit-from", type: "datetime-local" });
  const to = h("input", { id: "audit-to", type: "datetime-local" });
  if (preset) {
    key.value = "ResourceName";
    value.value = preset;
  }
  const list = h("div", { id: "audit-list" });
  const chart = h("div", { id: "audit-chart" });
  let events = [];
  let token;
  const input = () => {
    const i = { MaxResults: 50 };
    if (key.value && value.value.trim()) i.LookupAttributes = [{ AttributeKey: key.value, AttributeValue: value.value.trim() }];
    if (from.value) i.StartTime = new Date(from.value).getTime() / 1000;
    if (to.value) i.EndTime = new Date(to.value).getTime() / 1000;
    return i;
  };
  const draw = () => {
    const shown = events.filter((e) => {
      if (!outcome.value) return true;
      const failed = Boolean(JSON.parse(e.CloudTrailEvent).errorCode);
      return outcome.value === "error" ? failed : !failed;
    });
    chart.replaceChildren(activityChart(shown));
    list.replaceChildren(
      table(
        ["Time", "Event", "User", "Source", "Keys", "Error"],
        shown.map((e) => {
          const detail = JSON.parse(e.CloudTrailEvent);
          return h(
            "tr",
            { class: detail.errorCode ? "failed" : "" },
            h("td", {}, date(e.EventTime)),
            h("td", {}, e.EventName),
            h("td", {}, e.Username || ""),
            h("td", {}, e.EventSource),
            h("td", {}, (e.Resources || []).map((r) => r.ResourceName.split("/").pop()).join(", ")),
            h("td", {}, detail.errorCode ? `${detail.errorCode}${detail.errorMessage ? `: ${detail.errorMessage}` : ""}` : ""),
          );
        }),
        { id: "audit-table" },
      ),
      token ? h("button", { id: "audit-more", onclick: () => load(false) }, "Older events") : h("p", {}, `${shown.length} events`),
    );
  };
  const load = async (fresh) => {
    const page = await attempt(slot, () => cloudtrail("LookupEvents", { ...input(), ...(fresh || !token ? {} : { NextToken: token }) }));
    if (!page) return;
    events = fresh ? page.Events : [...events, ...page.Events];
    token = page.NextToken;
    draw();
  };
  const form = h(
    "form",
    { class: "filters", onsubmit: (ev) => { ev.preventDefault(); load(true); } },
    key,
    value,
    outcome,
    from,
    to,
    h("button", { type: "submit", id: "audit-search" }, "Search"),
  );
  outcome.addEventListener("change", draw);
  const status = h("div", { id: "trail-status" }, "Verifying the trail…");
  show(h("h1", {}, "Audit trail"), h("p", {}, "Every request to this deployment, newest first (CloudTrail LookupEvents)."), status, form, slot, chart, list);
  await load(true);
  // The chains recomputed now (GetTrailStatus): intact, or the first broken link.
  const trail = await cloudtrail("GetTrailStatus", { Name: "trent" }).catch((e) => {
    status.replaceChildren(errorBox(e));
    return null;
  });
  const v = trail?.TrentVerification;
  if (v) {
    status.replaceChildren(
      v.Intact
        ? h("p", { class: "ok" }, `Chain verification: intact — ${v.Events} events in ${v.Chains.length} chain(s).`)
        : h("p", { class: "error", role: "alert" }, `Chain verification: BROKEN in chain ${v.Problem.Chain} at event ${v.Problem.Seq}: ${v.Problem.Reason}`),
      ...(v.Notes || []).map((n) => h("p", { class: "warning" }, n)),
    );
  }
}

// --- IAM -------------------------------------------------------------------------------------

function members(xml, tag, fields) {
  return Array.from(xml.getElementsByTagName(tag)).map((el) =>
    Object.fromEntries(fields.map((f) => [f, el.getElementsByTagName(f)[0]?.textContent || ""])),
  );
}

async function iamPage() {
  const slot = h("div");
  show(h("h1", {}, "IAM"), slot, h("p", {}, "Loading…"));
  const data = await attempt(slot, async () => {
    const [users, roles, groups] = await Promise.all([query("iam", "ListUsers"), query("iam", "ListRoles"), query("iam", "ListGroups")]);
    const userRows = members(users, "member", ["UserName", "Arn", "CreateDate"]).filter((u) => u.UserName);
    const keys = await Promise.all(
      userRows.map((u) => query("iam", "ListAccessKeys", { UserName: u.UserName }).then((x) => members(x, "member", ["AccessKeyId", "Status"]), () => [])),
    );
    return {
      users: userRows.map((u, i) => ({ ...u, keys: keys[i] })),
      roles: members(roles, "member", ["RoleName", "Arn", "CreateDate"]).filter((r) => r.RoleName),
      groups: members(groups, "member", ["GroupName", "Arn", "CreateDate"]).filter((g) => g.GroupName),
    };
  });
  if (!data) return;
  show(
    h("h1", {}, "IAM"),
    h("h2", {}, "Users"),
    table(["User", "ARN", "Access keys", "Created"], data.users.map((u) => h("tr", {}, h("td", {}, u.UserName), h("td", {}, u.Arn), h("td", {}, u.keys.map((k) => `${k.AccessKeyId} (${k.Status})`).join(", ")), h("td", {}, u.CreateDate))), { id: "users" }),
    h("h2", {}, "Roles"),
    table(["Role", "ARN", "Created"], data.roles.map((r) => h("tr", {}, h("td", {}, r.RoleName), h("td", {}, r.Arn), h("td", {}, r.CreateDate))), { id: "roles" }),
    h("h2", {}, "Groups"),
    table(["Group", "ARN", "Created"], data.groups.map((g) => h("tr", {}, h("td", {}, g.GroupName), h("td", {}, g.Arn), h("td", {}, g.CreateDate))), { id: "groups" }),
  );
}

// --- routing ---------------------------------------------------------------------------------

function nav() {
  const c = credentials();
  const links = [
    ["#/keys", "Keys"],
    ["#/playground", "Playground"],
    ["#/audit", "Audit trail"],
    ["#/iam", "IAM"],
    ["#/keystores", "Key stores"],
  ];
  document.getElementById("nav").replaceChildren(
    h("span", { class: "brand" }, "Trent"),
    ...(c ? links.map(([href, label]) => h("a", { href }, label)) : []),
    c ? h("span", { class: "who", id: "who" }, `${c.accessKeyId} · ${c.region}`) : null,
    c ? h("button", { id: "signout", onclick: () => { signOut(); location.hash = "#/"; render(); } }, "Sign out") : null,
  );
}

async function render() {
  nav();
  if (!credentials()) {
    signInPage();
    return;
  }
  const [, page, arg] = (location.hash || "#/keys").split("/");
  try {
    if (page === "key" && arg) await keyPage(decodeURIComponent(arg));
    else if (page === "playground") playgroundPage();
    else if (page === "iam") await iamPage();
    else if (page === "keystores") await keyStoresPage();
    else if (page === "audit") await auditPage(arg ? decodeURIComponent(arg) : undefined);
    else await keysPage();
  } catch (e) {
    show(errorBox(e));
  }
}

window.addEventListener("hashchange", render);
render();
