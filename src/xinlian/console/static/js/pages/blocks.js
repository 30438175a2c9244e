// Blocks: a paged list, newest first, and one block with its header, commit, transactions
// and the browser's own check of its commit certificate.

import { get, once } from "../api.js";
import { fields, h, hashLink, hashText, link, num, section, table, time } from "../dom.js";
import { t } from "../i18n.js";
import { checkBlock } from "../verify.js";
import { verifyPanel } from "./verifyview.js";

const PAGE = 20;

function names(vs) {
  return new Map(vs.validators.map((v) => [v.public_key, v.name]));
}

export async function blocksPage(_arg, params) {
  const st = await get("/v1/status");
  const pages = Math.max(1, Math.ceil(st.height / PAGE));
  const page = Math.min(pages, Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1));
  const top = st.height - (page - 1) * PAGE;
  const heights = [];
  for (let hgt = top; hgt > Math.max(0, top - PAGE); hgt--) heights.push(hgt);
  const [blocks, vs] = await Promise.all([
    Promise.all(heights.map((n) => get(`/v1/blocks/${n}`))),
    once("/v1/validators"),
  ]);
  const who = names(vs);
  const rows = blocks.map((b) => [
    link(`block/${b.height}`, num(b.height)),
    hashLink(`block/${b.height}`, b.hash),
    time(b.header.time_ms),
    num(b.txs.length),
    who.get(b.header.proposer) ?? hashText(b.header.proposer, 8),
  ]);
  const nav = h(
    "nav",
    { class: "pager", "aria-label": t("blocks.pages") },
    page > 1 ? link(`blocks?page=${page - 1}`, t("blocks.newer"), { rel: "prev" }) : null,
    h("span", {}, t("blocks.page_of", { page: num(page), pages: num(pages) })),
    page < pages ? link(`blocks?page=${page + 1}`, t("blocks.older"), { rel: "next" }) : null,
  );
  return {
    title: "page.blocks",
    node: h(
      "div",
      {},
      table("blocks.caption", ["block.height", "block.hash", "block.time", "block.txs", "block.proposer"], rows, "blocks.empty"),
      nav,
    ),
  };
}

export async function blockPage(arg) {
  const block = await get(`/v1/blocks/${encodeURIComponent(arg)}`);
  const [st, vs] = await Promise.all([
    get("/v1/status"),
    once(`/v1/validators?height=${block.height}`),
  ]);
  const hd = block.header;
  const who = names(vs);
  const checks = await checkBlock(st.suite, hd, block.hash, block.commit, vs.validators);
  const header = fields([
    ["block.height", num(hd.height)],
    ["block.hash", hashText(block.hash, 32)],
    ["block.time", time(hd.time_ms)],
    ["block.chain_id", h("code", {}, hd.chain_id)],
    ["block.prev_hash", hd.height > 1 ? hashLink(`block/${hd.height - 1}`, hd.prev_hash, 32) : hashText(hd.prev_hash, 32)],
    ["block.tx_root", hashText(hd.tx_root, 32)],
    ["block.state_root", hashText(hd.state_root, 32)],
    ["block.receipts_root", hashText(hd.receipts_root, 32)],
    ["block.validators_hash", hashText(hd.validators_hash, 32)],
    ["block.next_validators_hash", hashText(hd.next_validators_hash, 32)],
    ["block.proposer", who.get(hd.proposer) ?? hashText(hd.proposer, 16)],
  ]);
  const commit = h(
    "div",
    {},
    fields([
      ["commit.round", num(block.commit.round)],
      ["commit.block_hash", hashText(block.commit.block_hash, 32)],
    ]),
    table(
      "commit.signatures",
      ["commit.index", "commit.validator", "commit.signature"],
      block.commit.signatures.map((s) => [
        num(s.validator_index),
        vs.validators[s.validator_index]?.name ?? "–",
        hashText(s.signature, 16),
      ]),
    ),
  );
  const txs = table(
    null,
    ["tx.index", "tx.hash"],
    block.txs.map((hash, i) => [num(i), hashLink(`tx/${hash}`, hash, 32)]),
    "block.no_txs",
  );
  const nav = h(
    "nav",
    { class: "pager", "aria-label": t("block.neighbours") },
    hd.height > 1 ? link(`block/${hd.height - 1}`, t("block.previous"), { rel: "prev" }) : null,
    hd.height < st.height ? link(`block/${hd.height + 1}`, t("block.next"), { rel: "next" }) : null,
  );
  return {
    title: "page.block",
    node: h(
      "div",
      {},
      h("p", { class: "subtitle" }, t("block.number", { height: num(hd.height) })),
      nav,
      verifyPanel(checks),
      section("block.header", header),
      section("block.transactions", txs),
      section("block.commit", commit),
    ),
  };
}
