// Network: chain status, validators, live charts from the block stream, equivocations.

import { get, once } from "../api.js";
import { lineChart } from "../chart.js";
import { fields, h, hashText, link, num, section, table, time } from "../dom.js";
import { t } from "../i18n.js";
import { FAILED, OK, checkEquivocation } from "../verify.js";

const WINDOW_MS = 60 * 60 * 1000; // an hour of samples
const MAX_POINTS = 3600;
const SEED_BLOCKS = 20;

// Samples survive page changes while the explorer is open, so the charts keep their hour.
const samples = { height: [], blockTime: [], tps: [], mempool: [] };
let lastBlock = null;

function push(series, x, y) {
  series.push([x, y]);
  while (series.length > MAX_POINTS || (series.length && series[0][0] < x - WINDOW_MS)) series.shift();
}

function addBlock(height, timeMs, txs) {
  if (lastBlock && height <= lastBlock.height) return;
  push(samples.height, timeMs, height);
  if (lastBlock && height === lastBlock.height + 1) {
    const dt = Math.max(1, timeMs - lastBlock.time);
    push(samples.blockTime, timeMs, dt);
    push(samples.tps, timeMs, (txs * 1000) / dt);
  }
  lastBlock = { height, time: timeMs };
}

async function seed(height) {
  if (lastBlock || height < 1) return;
  const from = Math.max(1, height - SEED_BLOCKS + 1);
  const blocks = await Promise.all(
    Array.from({ length: height - from + 1 }, (_, i) => get(`/v1/blocks/${from + i}`)),
  );
  for (const b of blocks) addBlock(b.height, b.header.time_ms, b.txs.length);
}

// The latest blocks whose commit needed more than one round (round > 0).
async function slowRounds(height) {
  const from = Math.max(1, height - SEED_BLOCKS + 1);
  const blocks = await Promise.all(
    Array.from({ length: height - from + 1 }, (_, i) => once(`/v1/blocks/${from + i}`)),
  );
  return {
    count: blocks.length,
    rows: blocks
      .filter((b) => b.commit.round > 0)
      .reverse()
      .map((b) => [link(`block/${b.height}`, num(b.height)), num(b.commit.round + 1)]),
  };
}

function charts() {
  const ms = (v) => `${num(Math.round(v))} ${t("unit.ms")}`;
  return h(
    "div",
    { class: "charts" },
    lineChart(t("net.chart_height"), samples.height, num),
    lineChart(t("net.chart_block_time"), samples.blockTime, ms),
    lineChart(t("net.chart_tps"), samples.tps, (v) => `${num(Math.round(v * 10) / 10)} ${t("unit.tps")}`),
    lineChart(t("net.chart_mempool"), samples.mempool, num),
  );
}

function statusFields(st) {
  return fields([
    ["net.chain_id", h("code", {}, st.chain_id)],
    ["net.suite", st.suite],
    ["net.height", link(`block/${st.height}`, num(st.height))],
    ["net.latest_time", time(st.latest_time_ms)],
    ["net.latest_hash", st.latest_block_hash ? hashText(st.latest_block_hash, 16) : "–"],
    ["net.mempool", num(st.mempool_size)],
    ["net.round", num(st.consensus.round)],
    ["net.peers", num(st.consensus.peers.length)],
    ["net.node", st.node],
    ["net.version", st.version],
  ]);
}

function validatorRows(validators, latest) {
  const total = validators.reduce((n, v) => n + v.power, 0);
  const signers = new Set(latest ? latest.commit.signatures.map((s) => s.validator_index) : []);
  const proposer = latest ? latest.header.proposer : null;
  return validators.map((v, i) => [
    v.name,
    hashText(v.public_key, 8),
    num(v.power),
    `${((100 * v.power) / (total || 1)).toFixed(1)} %`,
    v.public_key === proposer ? t("common.yes") : t("common.no"),
    signers.has(i) ? t("common.yes") : t("common.no"),
  ]);
}

// Each accusation checked here against the set that signs its height (the current set
// for a height not yet committed).
async function equivocationRows(st, list) {
  const rows = [];
  for (const e of list.slice().reverse()) {
    const path = e.height <= st.height ? `/v1/validators?height=${e.height}` : "/v1/validators";
    const vs = await once(path);
    const check = await checkEquivocation(st.suite, st.chain_id, e, vs.validators);
    const name = vs.validators[e.validator_index]?.name;
    rows.push([
      ["proposal", "prevote", "precommit"].includes(e.kind) ? t(`equivocation.${e.kind}`) : h("code", {}, e.kind),
      e.height <= st.height ? link(`block/${e.height}`, num(e.height)) : num(e.height),
      num(e.round),
      h("span", {}, name ? `${name} ` : "", hashText(e.validator, 8)),
      h(
        "span",
        { class: check.status === OK ? "ok" : check.status === FAILED ? "bad" : "", "data-equivocation": check.status },
        t(`verify.status_${check.status}`),
        check.detail ? t("verify.because", { detail: t(check.detail) }) : "",
      ),
    ]);
  }
  return rows;
}

export async function networkPage() {
  const [st, vs, eq] = await Promise.all([
    get("/v1/status"),
    get("/v1/validators"),
    get("/v1/consensus/equivocations"),
  ]);
  const latest = st.height > 0 ? await get(`/v1/blocks/${st.height}`) : null;
  await seed(st.height);
  const rounds = st.height > 0 ? await slowRounds(st.height) : { count: 0, rows: [] };
  push(samples.mempool, Date.now(), st.mempool_size);

  const statusBox = h("div", {}, statusFields(st));
  const chartBox = h("div", { "aria-live": "off" }, charts());
  const validatorBox = h(
    "div",
    {},
    table(
      null,
      ["val.name", "val.key", "val.power", "val.share", "val.proposer", "val.signed_latest"],
      validatorRows(vs.validators, latest),
    ),
  );
  const live = h("p", { class: "live", role: "status" }, t("net.connecting"));
  const node = h(
    "div",
    {},
    section("net.status", statusBox),
    section("net.live", live, chartBox),
    section("net.validators", validatorBox),
    section(
      "net.rounds",
      h("p", {}, t("net.rounds_scope", { count: num(rounds.count) })),
      table(null, ["block.height", "net.rounds_needed"], rounds.rows, "net.rounds_none"),
    ),
    section(
      "net.equivocations",
      table(null, ["eq.kind", "eq.height", "eq.round", "eq.validator", "eq.verified"],
        await equivocationRows(st, eq.equivocations), "eq.none"),
    ),
  );

  // Live updates: every block from the WebSocket; status (mempool) every 2 s; redraws
  // at most once a second.
  let dirty = false;
  let closed = false;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`);
  ws.addEventListener("open", () => { live.textContent = t("net.streaming"); });
  ws.addEventListener("close", () => { if (!closed) live.textContent = t("net.stream_closed"); });
  ws.addEventListener("message", (event) => {
    try {
      const msg = JSON.parse(event.data);
      if (msg.type === "block") {
        addBlock(msg.height, msg.time_ms, msg.txs);
        dirty = true;
      }
    } catch (_) {
      /* a message we do not understand is skipped */
    }
  });
  const poll = setInterval(async () => {
    try {
      const now = await get("/v1/status");
      push(samples.mempool, Date.now(), now.mempool_size);
      statusBox.replaceChildren(statusFields(now));
      dirty = true;
    } catch (_) {
      live.textContent = t("net.stream_closed");
    }
  }, 2000);
  const redraw = setInterval(() => {
    if (dirty) {
      chartBox.replaceChildren(charts());
      dirty = false;
    }
  }, 1000);
  const cleanup = () => {
    closed = true;
    clearInterval(poll);
    clearInterval(redraw);
    ws.close();
  };
  return { title: "page.network", node, cleanup };
}
