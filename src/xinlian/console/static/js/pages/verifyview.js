// The "verified" panel: each check with its result, in words, never a fake tick.

import { h, section } from "../dom.js";
import { t } from "../i18n.js";
import { FAILED, OK } from "../verify.js";

export function verifyPanel(results) {
  const overall = results.every((r) => r.status === OK)
    ? "verify.all_ok"
    : results.some((r) => r.status === FAILED)
      ? "verify.some_failed"
      : "verify.partly_unchecked";
  const cls = overall === "verify.all_ok" ? "ok" : overall === "verify.some_failed" ? "bad" : "warn";
  return section(
    "verify.title",
    h("p", { class: `verdict ${cls}`, "data-verdict": overall.slice(7) }, t(overall)),
    h(
      "ul",
      { class: "checks" },
      results.map((r) =>
        h(
          "li",
          { class: r.status, "data-check": r.check.slice(7), "data-status": r.status },
          h("span", { class: "mark", "aria-hidden": "true" }, r.status === OK ? "✓" : r.status === FAILED ? "✗" : "?"),
          " ",
          t("verify.line", { check: t(r.check), status: t(`verify.status_${r.status}`) }),
          r.detail ? t("verify.because", { detail: t(r.detail) }) : "",
          r.total ? t("verify.power", { signed: r.signed, total: r.total }) : "",
        ),
      ),
    ),
    h("p", { class: "note" }, t("verify.explain")),
  );
}
