// Evidence: where a digest was first anchored, its chain of custody and its receipt.

import { get } from "../api.js";
import { fields, h, hashLink, hashText, link, num, section, table, time } from "../dom.js";
import { t } from "../i18n.js";

function lookupForm(route, labelKey, placeholderKey, value = "") {
  const id = `lookup-${route}`;
  const input = h("input", { id, name: "q", type: "text", value, placeholder: t(placeholderKey), required: true, autocomplete: "off", spellcheck: "false" });
  return h(
    "form",
    {
      class: "lookup",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const q = input.value.trim();
        if (q) location.hash = `#/${route}/${encodeURIComponent(q)}`;
      },
    },
    h("label", { for: id }, t(labelKey)),
    input,
    h("button", { type: "submit" }, t("common.look_up")),
  );
}

export { lookupForm };

export async function evidencePage(arg) {
  const form = lookupForm("evidence", "evidence.digest_label", "evidence.digest_placeholder", arg);
  if (!arg) return { title: "page.evidence", node: h("div", {}, form, h("p", {}, t("evidence.help"))) };
  const digest = arg.toLowerCase();
  const [rec, custody] = await Promise.all([
    get(`/v1/evidence/${encodeURIComponent(digest)}`),
    get(`/v1/evidence/${encodeURIComponent(digest)}/custody`),
  ]);
  return {
    title: "page.evidence",
    node: h(
      "div",
      {},
      form,
      section(
        "evidence.record",
        fields([
          ["evidence.digest", hashText(rec.digest, 32)],
          ["evidence.category", h("code", {}, rec.category)],
          ["evidence.submitter_ref", rec.submitter_ref || t("common.none")],
          ["evidence.submitter", hashLink(`account/${rec.submitter}`, rec.submitter, 40)],
          ["block.height", link(`block/${rec.height}`, num(rec.height))],
          ["block.time", time(rec.time_ms)],
          ["tx.hash", hashLink(`tx/${rec.tx_hash}`, rec.tx_hash, 32)],
          ["evidence.batch", t("evidence.position", { index: num(rec.index), count: num(rec.count) })],
          ["evidence.root", hashText(rec.root, 32)],
          ["evidence.parent", rec.parent ? hashLink(`evidence/${rec.parent}`, rec.parent, 32) : t("common.none")],
        ]),
        h("p", {}, h("a", { href: `/v1/evidence/${digest}/receipt`, download: `receipt-${digest.slice(0, 16)}.json` }, t("evidence.download"))),
        h("p", { class: "note" }, t("evidence.receipt_note")),
      ),
      section(
        "evidence.custody",
        table(null, ["evidence.digest", "block.height", "evidence.category"],
          custody.custody.map((c) => [hashLink(`evidence/${c.digest}`, c.digest, 16), link(`block/${c.height}`, num(c.height)), h("code", {}, c.category)])),
      ),
    ),
  };
}
