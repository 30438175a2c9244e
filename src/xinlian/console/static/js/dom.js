// Small DOM helpers: elements from data (never from HTML strings), formatting, links.

import { lang, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function link(route, text, attrs = {}) {
  return h("a", { href: `#/${route}`, ...attrs }, text);
}

export function short(hex, n = 10) {
  if (typeof hex !== "string" || hex.length <= 2 * n + 1) return hex;
  return `${hex.slice(0, n)}…${hex.slice(-6)}`;
}

// A hash shown short, with the full value in its title and for screen readers.
export function hashText(hex, n = 10) {
  return h("code", { class: "hash", title: hex }, short(hex, n));
}

export function hashLink(route, hex, n = 10) {
  return h("a", { href: `#/${route}`, class: "hash", title: hex, "aria-label": hex }, short(hex, n));
}

export function num(n) {
  return new Intl.NumberFormat(lang()).format(n);
}

export function time(ms) {
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "medium" }).format(
    new Date(ms),
  );
}

// A definition list of [label key, value] rows.
export function fields(rows) {
  return h(
    "dl",
    { class: "fields" },
    rows.map(([key, value]) => [h("dt", {}, t(key)), h("dd", {}, value)]),
  );
}

// A table: caption key, column keys, rows of cells.
export function table(captionKey, columns, rows, emptyKey = "common.none") {
  if (!rows.length) return h("p", { class: "empty" }, t(emptyKey));
  return h(
    "table",
    {},
    captionKey ? h("caption", {}, t(captionKey)) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, t(c))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((cell) => h("td", {}, cell))))),
  );
}

export function section(titleKey, ...children) {
  const id = `s-${titleKey.replace(/\W/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, t(titleKey)), children);
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

// Plain data as a key/value table (keys are data field names, shown as code).
export function record(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return json(value);
  return h(
    "dl",
    { class: "fields" },
    Object.entries(value).map(([k, v]) => [
      h("dt", {}, h("code", {}, k)),
      h("dd", {}, v !== null && typeof v === "object" ? json(v) : String(v)),
    ]),
  );
}
