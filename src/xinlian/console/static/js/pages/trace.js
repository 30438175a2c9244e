// Traceability: an item's history (upstream and downstream) by EPC or GS1 Digital Link.

import { get } from "../api.js";
import { h, hashLink, link, num, section, table, time } from "../dom.js";
import { t } from "../i18n.js";
import { lookupForm } from "./evidence.js";

const RELATIONS = ["start", "made_from", "made_into", "contains", "packed_in"];

function code(v) {
  return v ? h("code", {}, v) : "–";
}

export async function tracePage(arg) {
  const form = lookupForm("trace", "trace.id_label", "trace.id_placeholder", arg);
  if (!arg) return { title: "page.trace", node: h("div", {}, form, h("p", {}, t("trace.help"))) };
  const hist = await get(`/v1/trace/history?id=${encodeURIComponent(arg)}&direction=both`);
  const items = table(
    null,
    ["trace.item", "trace.relation"],
    hist.items.map((it) => [
      code(it.id),
      RELATIONS.includes(it.relation) ? t(`trace.rel_${it.relation}`) : code(it.relation),
    ]),
  );
  const events = table(
    null,
    ["trace.time", "trace.type", "trace.step", "trace.read_point", "trace.org", "block.height", "tx.hash"],
    hist.events.map((e) => [
      time(e.time_ms),
      code(e.type),
      code(e.biz_step),
      code(e.read_point),
      code(e.org),
      link(`block/${e.anchor.height}`, num(e.anchor.height)),
      hashLink(`tx/${e.anchor.tx_hash}`, e.anchor.tx_hash),
    ]),
    "trace.no_events",
  );
  return {
    title: "page.trace",
    node: h(
      "div",
      {},
      form,
      h("p", {}, t("trace.canonical"), " ", code(hist.id)),
      hist.truncated ? h("p", { class: "warn", role: "note" }, t("trace.truncated")) : null,
      section("trace.items", items),
      section("trace.events", events),
    ),
  };
}
