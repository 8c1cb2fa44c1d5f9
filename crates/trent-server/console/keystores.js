// The console's external key stores page: DescribeCustomKeyStores, CreateCustomKeyStore (an
// external key store on a public endpoint), Connect/Disconnect/Delete — the same signed KMS
// requests any client makes, authorized by IAM (these are IAM-only actions).

import { kms, kmsAll } from "./api.js";
import { attempt, date, errorBox, h, show, table } from "./ui.js";

function createStoreForm(slot) {
  const form = h(
    "form",
    {
      id: "create-store",
      class: "inline",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = new FormData(form);
        const made = await attempt(slot, () =>
          kms("CreateCustomKeyStore", {
            CustomKeyStoreName: String(f.get("name")),
            CustomKeyStoreType: "EXTERNAL_KEY_STORE",
            XksProxyUriEndpoint: String(f.get("endpoint")),
            XksProxyUriPath: String(f.get("path")),
            XksProxyConnectivity: "PUBLIC_ENDPOINT",
            XksProxyAuthenticationCredential: {
              AccessKeyId: String(f.get("accessKeyId")),
              RawSecretAccessKey: String(f.get("secret")),
            },
          }),
        );
        if (made) keyStoresPage();
      },
    },
    h("input", { name: "name", id: "store-name", placeholder: "name", required: true }),
    h("input", { name: "endpoint", id: "store-endpoint", placeholder: "https://xks.example.com", required: true }),
    h("input", { name: "path", id: "store-path", value: "/kms/xks/v1", required: true }),
    h("input", { name: "accessKeyId", id: "store-access-key-id", placeholder: "access key id", required: true }),
    h("input", { name: "secret", id: "store-secret", type: "password", placeholder: "secret access key", autocomplete: "off", required: true }),
    h("button", { type: "submit", id: "create-store-submit" }, "Create external key store"),
  );
  return form;
}

function storeAction(label, op, id, slot) {
  return h("button", { "data-action": op, onclick: async () => { if ((await attempt(slot, () => kms(op, { CustomKeyStoreId: id }))) !== undefined) keyStoresPage(); } }, label);
}

export async function keyStoresPage() {
  const slot = h("div");
  show(h("h1", {}, "External key stores"), slot, h("p", {}, "Loading…"));
  let stores;
  try {
    stores = await kmsAll("DescribeCustomKeyStores", {}, "CustomKeyStores");
  } catch (e) {
    show(h("h1", {}, "External key stores"), errorBox(e));
    return;
  }
  const rows = stores.map((s) => {
    const x = s.XksProxyConfiguration || {};
    const state = s.ConnectionState + (s.ConnectionErrorCode ? ` (${s.ConnectionErrorCode})` : "");
    const actions = [];
    if (s.ConnectionState === "DISCONNECTED") actions.push(storeAction("Connect", "ConnectCustomKeyStore", s.CustomKeyStoreId, slot), storeAction("Delete", "DeleteCustomKeyStore", s.CustomKeyStoreId, slot));
    else actions.push(storeAction("Disconnect", "DisconnectCustomKeyStore", s.CustomKeyStoreId, slot));
    return h("tr", { "data-store": s.CustomKeyStoreId }, h("td", {}, s.CustomKeyStoreId), h("td", {}, s.CustomKeyStoreName), h("td", { "data-field": "state" }, state), h("td", {}, `${x.UriEndpoint || ""}${x.UriPath || ""}`), h("td", {}, x.AccessKeyId || ""), h("td", {}, date(s.CreationDate)), h("td", {}, actions));
  });
  show(
    h("h1", {}, "External key stores"),
    h("p", {}, "Keys whose material is encrypted again by an external key store proxy (AWS's XKS proxy API). Create a key in a connected store from the keys page."),
    slot,
    table(["Id", "Name", "Connection", "Proxy", "Access key id", "Created", ""], rows, { id: "stores" }),
    h("h2", {}, "New external key store"),
    createStoreForm(slot),
  );
}
