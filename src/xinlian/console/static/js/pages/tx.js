// One transaction: its decoded call, receipt, events, and the browser's checks of its
// inclusion under the block's roots and of the block's commit certificate.

import { get, once } from "../api.js";
import { fields, h, hashLink, hashText, json, link, num, section, table } from "../dom.js";
import { t } from "../i18n.js";
import { bytesToHex, decode, hexToBytes, toPlain } from "../msgpack.js";
import { checkTransaction, suiteCheckable, suiteHash } from "../verify.js";
import { verifyPanel } from "./verifyview.js";

const STATUS = ["ok", "failed", "out_of_gas", "permission_denied", "invalid_args", "unknown_target"];

export function decoded(hex) {
  if (!hex) return h("span", { class: "muted" }, t("common.empty"));
  try {
    return json(toPlain(decode(hexToBytes(hex))));
  } catch (_) {
    return h("span", {}, t("tx.undecodable"), " ", hashText(hex, 16));
  }
}

export async function addressOf(suite, publicKey) {
  if (!suiteCheckable(suite)) return null;
  return bytesToHex((await suiteHash(suite, hexToBytes(publicKey))).slice(0, 20));
}

function targetLink(target) {
  return /^c[0-9a-f]{40}$/.test(target) ? hashLink(`contract/${target}`, target, 12) : h("code", {}, target);
}

export function eventsTable(events) {
  return table(
    null,
    ["event.type", "event.attributes"],
    events.map((e) => [h("code", {}, e.type), json(e.attributes)]),
    "event.none",
  );
}

export async function txPage(arg) {
  const hash = arg.toLowerCase();
  const doc = await get(`/v1/transactions/${encodeURIComponent(hash)}`);
  if (doc.status === "pending") {
    return {
      title: "page.tx",
      node: h("div", {}, fields([["tx.hash", hashText(hash, 32)], ["tx.status", t("tx.pending")]])),
    };
  }
  const st = await once("/v1/status");
  const vs = await once(`/v1/validators?height=${doc.height}`);
  const tx = doc.tx;
  const sender = await addressOf(st.suite, tx.sender);
  const checks = await checkTransaction(st.suite, doc, vs.validators);
  const r = doc.receipt;
  const statusKey = STATUS[r.status] ? `receipt.${STATUS[r.status]}` : null;
  return {
    title: "page.tx",
    node: h(
      "div",
      {},
      fields([
        ["tx.hash", hashText(doc.hash, 32)],
        ["tx.status", t("tx.committed")],
        ["tx.block", link(`block/${doc.height}`, num(doc.height))],
        ["tx.index", num(doc.index)],
      ]),
      verifyPanel(checks),
      section(
        "tx.call",
        fields([
          ["tx.target", targetLink(tx.target)],
          ["tx.method", h("code", {}, tx.method)],
          ["tx.args", decoded(tx.args)],
          ["tx.sender", sender ? hashLink(`account/${sender}`, sender, 40) : hashText(tx.sender, 16)],
          ["tx.sender_key", hashText(tx.sender, 16)],
          ["tx.nonce", num(tx.nonce)],
          ["tx.gas_limit", num(tx.gas_limit)],
          ["tx.expiry", num(tx.expiry)],
          ["tx.chain_id", h("code", {}, tx.chain_id)],
        ]),
      ),
      section(
        "tx.receipt",
        fields([
          ["receipt.status", h("span", { class: r.status === 0 ? "ok" : "bad" }, statusKey ? t(statusKey) : num(r.status))],
          ["receipt.gas_used", num(r.gas_used)],
          ["receipt.error", r.error ? h("code", {}, r.error) : t("common.none")],
          ["receipt.output", decoded(r.output)],
        ]),
      ),
      section("tx.events", eventsTable(r.events)),
      section(
        "tx.proof",
        fields([
          ["proof.block_hash", hashLink(`block/${doc.height}`, doc.proof.block_hash, 32)],
          ["proof.tx_path", json(doc.proof.tx_proof)],
          ["proof.receipt_path", json(doc.proof.receipt_proof)],
        ]),
      ),
    ),
  };
}
