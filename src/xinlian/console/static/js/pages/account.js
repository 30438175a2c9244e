// An account: its identity record, next nonce, and the evidence batches it anchored.

import { get } from "../api.js";
import { fields, h, hashLink, link, num, record, section, table, time } from "../dom.js";
import { t } from "../i18n.js";

export function batchRows(batches) {
  return batches.map((b) => [
    link(`block/${b.height}`, num(b.height)),
    time(b.time_ms),
    hashLink(`tx/${b.tx_hash}`, b.tx_hash),
    h("code", {}, b.category),
    num(b.count),
  ]);
}

export async function accountPage(arg) {
  const address = arg.toLowerCase();
  const [acct, evidence] = await Promise.all([
    get(`/v1/accounts/${encodeURIComponent(address)}`),
    get(`/v1/evidence?submitter=${encodeURIComponent(address)}&limit=100`),
  ]);
  return {
    title: "page.account",
    node: h(
      "div",
      {},
      fields([
        ["account.address", h("code", {}, acct.address)],
        ["account.next_nonce", num(acct.nonce)],
        ["account.registered", acct.account ? t("common.yes") : t("common.no")],
      ]),
      section("account.record", acct.account ? record(acct.account) : h("p", { class: "empty" }, t("account.unregistered"))),
      section(
        "account.evidence",
        h("p", {}, t("account.evidence_total", { total: num(evidence.total ?? 0) })),
        table(null, ["block.height", "block.time", "tx.hash", "evidence.category", "evidence.count"],
          batchRows(evidence.batches ?? []), "account.no_evidence"),
      ),
    ),
  };
}
