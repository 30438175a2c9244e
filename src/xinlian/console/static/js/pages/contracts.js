// Contracts: every deployment (from the contracts.deployed events) and one contract's
// metadata, interface and source.

import { get } from "../api.js";
import { fields, h, hashLink, hashText, link, num, section, table } from "../dom.js";
import { t } from "../i18n.js";

const LIMIT = 1000;

export async function contractsPage() {
  const found = await get(`/v1/events?type=contracts.deployed&limit=${LIMIT}`);
  const rows = found.events
    .slice()
    .reverse()
    .map((e) => [
      hashLink(`contract/${e.attributes.address}`, e.attributes.address, 12),
      hashLink(`account/${e.attributes.owner}`, e.attributes.owner, 10),
      link(`block/${e.height}`, num(e.height)),
      hashLink(`tx/${e.tx_hash}`, e.tx_hash),
    ]);
  return {
    title: "page.contracts",
    node: h(
      "div",
      {},
      found.events.length >= LIMIT ? h("p", { class: "note" }, t("contracts.first", { count: LIMIT })) : null,
      table("contracts.caption", ["contract.address", "contract.owner", "contract.created", "contract.deploy_tx"], rows, "contracts.none"),
    ),
  };
}

export async function contractPage(arg) {
  const address = arg.toLowerCase();
  const [meta, code] = await Promise.all([
    get(`/v1/contracts/${encodeURIComponent(address)}`),
    get(`/v1/contracts/${encodeURIComponent(address)}/code`),
  ]);
  const methods = table(
    null,
    ["contract.method", "contract.kind", "contract.params", "contract.returns"],
    meta.methods.map((m) => [
      h("code", {}, m.name),
      m.readonly ? t("contract.view") : t("contract.call"),
      h("code", {}, (m.params ?? []).map((p) => `${p.name}: ${p.type}`).join(", ")),
      h("code", {}, m.returns),
    ]),
  );
  return {
    title: "page.contract",
    node: h(
      "div",
      {},
      fields([
        ["contract.address", h("code", {}, meta.address)],
        ["contract.owner", hashLink(`account/${meta.owner}`, meta.owner, 40)],
        ["contract.code_hash", hashText(meta.code_hash, 32)],
        ["contract.version", num(meta.version)],
        ["contract.policy", h("code", {}, meta.policy)],
        ["contract.created", link(`block/${meta.created}`, num(meta.created))],
      ]),
      section("contract.methods", methods),
      section("contract.source", h("pre", { class: "source", tabindex: "0", "aria-label": t("contract.source") }, code.source)),
    ),
  };
}
