// The explorer: a hash-routed single page over this node's public REST API.

import { ApiError, find } from "./api.js";
import { h } from "./dom.js";
import { applyStatic, initLanguage, setLanguage, t } from "./i18n.js";
import { accountPage } from "./pages/account.js";
import { blockPage, blocksPage } from "./pages/blocks.js";
import { contractPage, contractsPage } from "./pages/contracts.js";
import { evidencePage } from "./pages/evidence.js";
import { networkPage } from "./pages/network.js";
import { tracePage } from "./pages/trace.js";
import { txPage } from "./pages/tx.js";

const ROUTES = {
  network: networkPage,
  blocks: blocksPage,
  block: blockPage,
  tx: txPage,
  account: accountPage,
  evidence: evidencePage,
  trace: tracePage,
  contracts: contractsPage,
  contract: contractPage,
  search: searchPage,
};

let cleanup = null;
let generation = 0;

function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const slash = path.indexOf("/");
  const name = slash < 0 ? path : path.slice(0, slash);
  const arg = slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1));
  return { name: name || "network", arg, params: new URLSearchParams(query) };
}

export function go(route) {
  location.hash = `#/${route}`;
}

// How long each page took from route change to rendered content (read by the browser
// tests and shown in no page): [{route, ms}], newest last, at most 100.
export const timings = [];
window.xinlianTimings = timings;

async function render() {
  const mine = ++generation;
  const started = performance.now();
  const hash = location.hash;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const { name, arg, params } = parseRoute();
  const page = ROUTES[name];
  const main = document.getElementById("main");
  main.setAttribute("aria-busy", "true");
  for (const a of document.querySelectorAll("nav a")) {
    const current = a.dataset.route === name || (a.dataset.route === "blocks" && name === "block")
      || (a.dataset.route === "contracts" && name === "contract");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  let content;
  let titleKey = "page.not_found";
  try {
    if (!page) {
      content = h("p", { class: "error", role: "alert" }, t("error.no_page"));
    } else {
      const out = await page(arg, params);
      titleKey = out.title;
      content = out.node;
      if (out.cleanup) cleanup = out.cleanup;
    }
  } catch (err) {
    content = errorView(err);
  }
  if (mine !== generation) {
    if (cleanup) cleanup();
    return;
  }
  main.replaceChildren(h("h1", { id: "page-title", tabindex: "-1" }, t(titleKey)), content);
  document.title = `${t(titleKey)} · ${t("app.name")}`;
  main.removeAttribute("aria-busy");
  main.dataset.rendered = hash; // which route the content shows (for tests and tools)
  timings.push({ route: name, ms: Math.round(performance.now() - started) });
  if (timings.length > 100) timings.shift();
}

export function errorView(err) {
  let key = "error.failed";
  if (err instanceof ApiError) {
    key = err.status === 404 ? "error.not_found" : err.status === 400 ? "error.bad_input" : "error.node";
  } else {
    console.warn(err);
  }
  const status = err instanceof ApiError ? ` (HTTP ${err.status})` : "";
  return h("p", { class: "error", role: "alert" }, t(key), status);
}

// The search box: decide what the text is and open its page.
export async function resolveSearch(raw) {
  const q = raw.trim();
  if (/^\d{1,19}$/.test(q)) return `block/${Number(q)}`;
  if (/^c[0-9a-f]{40}$/i.test(q)) return `contract/${q.toLowerCase()}`;
  if (/^(0x)?[0-9a-f]{40}$/i.test(q)) return `account/${q.replace(/^0x/i, "").toLowerCase()}`;
  if (/^(0x)?[0-9a-f]{64}$/i.test(q)) {
    const hex = q.replace(/^0x/i, "").toLowerCase();
    if (await find(`/v1/transactions/${hex}`)) return `tx/${hex}`;
    const block = await find(`/v1/blocks/by-hash/${hex}`);
    if (block) return `block/${block.height}`;
    if (await find(`/v1/evidence/${hex}`)) return `evidence/${hex}`;
    return `search/${hex}`;
  }
  if (/^(urn:epc:|urn:epcglobal:|https?:\/\/)/i.test(q)) return `trace/${encodeURIComponent(q)}`;
  return `search/${encodeURIComponent(q)}`;
}

async function searchPage(arg) {
  return {
    title: "page.search",
    node: h(
      "div",
      {},
      h("p", { role: "status" }, t("search.nothing")),
      h("p", {}, h("code", {}, arg)),
      h("p", {}, t("search.help")),
    ),
  };
}

function setup() {
  initLanguage();
  applyStatic();
  const form = document.getElementById("search");
  const input = document.getElementById("search-input");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value;
    if (!q.trim()) return;
    const status = document.getElementById("search-status");
    status.textContent = t("search.searching");
    try {
      go(await resolveSearch(q));
      status.textContent = "";
    } catch (err) {
      status.textContent = t("error.failed");
    }
  });
  const picker = document.getElementById("lang");
  picker.addEventListener("change", () => {
    setLanguage(picker.value);
    applyStatic();
    render();
  });
  window.addEventListener("hashchange", () => {
    render().then(() => document.getElementById("page-title")?.focus({ preventScroll: true }));
  });
  render();
}

setup();
