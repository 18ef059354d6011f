/* cxbill admin console (SPEC R-api-6): plain JavaScript, no build step, no third-party code.
 *
 * Sign-in: OpenID Connect, authorization code with PKCE, against the deployment's JwtIssuer
 * (config.json: issuer, client_id, redirect_uri, scopes; no client secret). Locally,
 * `cxbill serve` answers config.json with a development sign-in instead (an org and a permission
 * set, a token it signs itself). The token lives in this page's memory only: never in
 * localStorage or a cookie; a reload signs out. Only the PKCE verifier and state wait in
 * sessionStorage while the browser visits the identity provider.
 */
"use strict";

(function () {
  const API = new URL("../", window.location.href); // the API's root: /console/ is under it
  const LOCALE = "en-US"; // as the invoice PDF (R-money-3)
  const MAX_RANGE_DAYS = 366; // R-api-3
  const SECTIONS = ["Core services and fees", "Resource charges", "Device charges", "Telco usage charges"];
  const KIND_LABELS = {
    period: "Billing period",
    opening: "Opening",
    one_time: "One-time charges",
    statement: "Usage statement",
    estimate: "Estimate",
  };
  const REPORTS = [
    ["billable_usage", "Billable usage", "What each billing period bills: licensed users, add-ons and devices, with their first billable time."],
    ["concurrent_usage", "Concurrent usage", "Per day: the peak of concurrent users, minutes at that peak, the 30-minute sustained peak."],
    ["resources_usage", "Resources usage", "Per day: each resource's quantity."],
    ["voice_usage", "Voice usage", "Each call: direction, numbers, country, service, durations and cost."],
    ["user_hours", "User hours", "Per day and user: the time logged in with billable time."],
  ];
  const PKCE_KEY = "cxbill.console.pkce";

  const state = {
    config: null,
    token: null, // in memory only
    claims: null,
    page: null,
    invoices: [],
    lastViewButton: null,
  };

  // -- small helpers ------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function say(text) {
    $("status").textContent = text;
  }

  function b64url(bytes) {
    let text = "";
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomText(size) {
    return b64url(crypto.getRandomValues(new Uint8Array(size)));
  }

  function jwtClaims(token) {
    // For display and the org's path only: the API verifies the token, the console never does.
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const binary = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    } catch (e) {
      return null;
    }
  }

  // -- dates and amounts, as the invoice PDF shows them ------------------------------------

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(day, n) {
    const d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return isoDay(d);
  }

  function today() {
    return (state.config && state.config.today) || isoDay(new Date());
  }

  const DATE_FORMAT = new Intl.DateTimeFormat(LOCALE, {
    month: "short", day: "numeric", year: "numeric", timeZone: "UTC",
  });

  function peopleDate(dayOrInstant) {
    return DATE_FORMAT.format(new Date(dayOrInstant.slice(0, 10) + "T00:00:00Z"));
  }

  function peoplePeriod(start, end) {
    // [start, end) with its last day shown: "Mar 10, 2026 – Apr 9, 2026"
    const first = start.slice(0, 10);
    const last = addDays(end.slice(0, 10), -1);
    return last <= first ? peopleDate(first) : `${peopleDate(first)} – ${peopleDate(last)}`;
  }

  function places(decimal) {
    const dot = decimal.indexOf(".");
    return dot < 0 ? 0 : decimal.length - dot - 1;
  }

  function minorUnits(currency) {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
  }

  // Intl formats a decimal string exactly (no binary float on the way).
  function money(amount, currency) {
    const digits = minorUnits(currency);
    return new Intl.NumberFormat(LOCALE, {
      style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(amount);
  }

  function rate(value, currency) {
    if (value === null || value === undefined) return "—"; // calls are rated one by one
    const digits = minorUnits(currency);
    return new Intl.NumberFormat(LOCALE, {
      style: "currency", currency, minimumFractionDigits: Math.min(digits, places(value)),
      maximumFractionDigits: Math.max(digits, places(value)),
    }).format(value);
  }

  function quantity(value) {
    const p = places(value);
    return new Intl.NumberFormat(LOCALE, { minimumFractionDigits: p, maximumFractionDigits: p }).format(value);
  }

  function taxRate(value) {
    return new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 4 }).format(value);
  }

  // -- the API ------------------------------------------------------------------------------

  async function api(path, params) {
    const url = new URL(path, API);
    for (const [key, value] of Object.entries(params || {})) {
      if (value) url.searchParams.set(key, value);
    }
    let response;
    try {
      response = await fetch(url, {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" },
        cache: "no-store",
      });
    } catch (e) {
      return { ok: false, status: 0, body: { error: "network", message: String(e) } };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = { error: "unreadable", message: `HTTP ${response.status}` };
    }
    if (response.status === 401) signedOut("Your sign-in has ended or is missing. Sign in again.");
    return { ok: response.ok, status: response.status, body };
  }

  function orgPath(suffix) {
    return `orgs/${encodeURIComponent(state.claims.org_id)}/${suffix}`;
  }

  /** A failed call as a message people can act on (R-api-6: 403, 400, 401 said plainly). */
  function problem(result, what) {
    const message = (result.body && result.body.message) || "";
    switch (result.status) {
      case 400:
        if (/at most/.test(message)) {
          return ["The date range is too long.", `Pick a range of at most ${MAX_RANGE_DAYS} days (both days count).`];
        }
        return ["Those dates can't be used.", `The API says: ${message}.`];
      case 401:
        return ["You are signed out.", "Sign in again to continue."];
      case 403:
        return [
          `You don't have permission to see ${what}.`,
          "Ask an administrator for one of the Billing permissions: Billing > All Permissions, " +
            "Billing > Subscription > Add, or Billing > Subscription > View.",
        ];
      case 404:
        return [`No ${what} found.`, "It does not exist for your organization (a trial org, or one not active yet, has no billing period)."];
      case 0:
        return ["The console could not reach the API.", message];
      default:
        return [
          "Something went wrong on our side.",
          result.body && result.body.request_id ? `Quote request id ${result.body.request_id} to support.` : message,
        ];
    }
  }

  function showMessage(container, kind, title, detail) {
    container.replaceChildren(
      el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : null },
        el("p", {}, el("strong", { text: title })),
        detail ? el("p", { text: detail }) : null)
    );
  }

  function loading(container, text) {
    container.setAttribute("aria-busy", "true");
    showMessage(container, "loading", text, null);
  }

  function done(container) {
    container.setAttribute("aria-busy", "false");
  }

  function failed(container, result, what) {
    done(container);
    const [title, detail] = problem(result, what);
    showMessage(container, "error", title, detail);
  }

  // -- pages --------------------------------------------------------------------------------

  const PAGES = ["subscription", "invoices", "reports"];

  function show(page, focus) {
    if (!state.token) return;
    if (!PAGES.includes(page)) page = "subscription";
    const first = state.page !== page;
    state.page = page;
    for (const name of PAGES) $(`page-${name}`).hidden = name !== page;
    $("signin").hidden = true;
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.page === page) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.title = `${$(`${page}-title`).textContent} – cxbill admin console`;
    if (first && focus) say("");
    if (focus) $(`${page}-title`).focus();
    if (first) {
      if (page === "subscription") loadSubscription();
      if (page === "invoices") loadInvoices();
    }
  }

  // Subscription: license model, products, commitments, ramp, assigned and used; bill to date.
  async function loadSubscription() {
    const body = $("subscription-body");
    const btd = $("btd-body");
    loading(body, "Loading the subscription…");
    loading(btd, "Loading the bill to date…");
    const asOf = state.config.today || undefined;
    const [sub, bill] = await Promise.all([
      api(orgPath("subscription"), { as_of: asOf }),
      api(orgPath("bill-to-date"), { as_of: asOf }),
    ]);
    if (!state.token) return;
    if (sub.ok) renderSubscription(body, sub.body);
    else failed(body, sub, "a subscription");
    if (bill.ok) renderBillToDate(btd, bill.body);
    else failed(btd, bill, "a bill to date");
  }

  function renderSubscription(container, s) {
    done(container);
    const ramp = s.ramp;
    let rampText = "None";
    if (ramp.periods > 0) {
      const billing = ramp.license_billing === "none" ? "licenses not billed" : "licenses billed at actual use";
      rampText = `${ramp.periods} ramp period${ramp.periods === 1 ? "" : "s"} (${billing}); ` +
        (ramp.in_ramp ? `in ramp now, the term starts ${peopleDate(ramp.term_start)}` : `the term started ${peopleDate(ramp.term_start)}`);
    }
    const hourly = s.license_model === "hourly";
    container.replaceChildren(
      el("dl", { class: "facts" },
        el("dt", { text: "Organization" }), el("dd", { text: s.org_id }),
        el("dt", { text: "License model" }), el("dd", { text: label(s.license_model) }),
        el("dt", { text: "Subscription" }), el("dd", { text: label(s.subscription) }),
        el("dt", { text: "Current period" }), el("dd", { text: peoplePeriod(s.period_start, s.period_end) }),
        el("dt", { text: "Ramp" }), el("dd", { text: rampText })),
      el("table", { id: "products" },
        el("caption", { text: hourly ? "Licenses and add-ons this period (CX1–CX3 used in user hours)" : "Licenses and add-ons this period" }),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: "Product" }),
          el("th", { scope: "col", class: "num", text: "Assigned now" }),
          el("th", { scope: "col", class: "num", text: "Committed" }),
          el("th", { scope: "col", class: "num", text: "Used this period" }))),
        el("tbody", {}, s.products.map((p) => el("tr", {},
          el("th", { scope: "row", text: p.product }),
          el("td", { class: "num", text: String(p.assigned) }),
          el("td", { class: "num", text: String(p.committed) }),
          el("td", { class: "num", text: quantity(p.used) })))))
    );
  }

  function label(code) {
    return code.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  function renderBillToDate(container, bill) {
    done(container);
    const through = addDays(bill.as_of, -1);
    container.replaceChildren(
      el("p", {},
        el("span", { class: "badge", text: "Estimate" }), " ",
        `Usage from ${peopleDate(bill.period_start)} through ${peopleDate(through)}; not an invoice.`),
      documentBody(bill)
    );
  }

  // Invoices: a date range, newest first; View shows the record as the PDF does.
  function defaultRange(fromId, toId, days) {
    if (!$(toId).value) $(toId).value = today();
    if (!$(fromId).value) $(fromId).value = addDays($(toId).value, -(days - 1));
  }

  async function loadInvoices() {
    defaultRange("inv-from", "inv-to", 365);
    const body = $("invoices-body");
    const from = $("inv-from").value;
    const to = $("inv-to").value;
    $("invoice-view").hidden = true;
    $("invoice-action").replaceChildren();
    say("");
    loading(body, "Loading invoices…");
    const result = await api(orgPath("invoices"), { from, to });
    if (!state.token) return;
    if (!result.ok) return failed(body, result, "invoices");
    done(body);
    const invoices = result.body.invoices;
    state.invoices = invoices;
    if (!invoices.length) {
      return showMessage(body, "empty", "No invoices in this range.",
        `Nothing was issued from ${peopleDate(from)} to ${peopleDate(to)}. Try a wider range.`);
    }
    body.replaceChildren(
      el("table", { id: "invoice-table" },
        el("caption", { text: `${invoices.length} invoice${invoices.length === 1 ? "" : "s"} issued ${peopleDate(from)} – ${peopleDate(to)}, newest first` }),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: "Number" }),
          el("th", { scope: "col", text: "Kind" }),
          el("th", { scope: "col", text: "Issued" }),
          el("th", { scope: "col", text: "Period" }),
          el("th", { scope: "col", class: "num", text: "Total" }),
          el("th", { scope: "col", text: "Actions" }))),
        el("tbody", {}, invoices.map((inv) => el("tr", { "data-number": inv.number },
          el("th", { scope: "row", text: inv.number }),
          el("td", { text: KIND_LABELS[inv.kind] || inv.kind }),
          el("td", { text: peopleDate(inv.issue_date) }),
          el("td", { text: peoplePeriod(inv.period_start, inv.period_end) }),
          el("td", { class: "num", text: "total" in inv ? money(inv.total, inv.currency) : "— (statement)" }),
          el("td", { class: "actions" },
            el("button", { type: "button", class: "small", "aria-label": `View ${inv.number}`, onclick: (e) => viewInvoice(inv.number, e.currentTarget) }, "View"),
            el("button", { type: "button", class: "small quiet", "aria-label": `Download ${inv.number} PDF`, onclick: (e) => downloadPdf(inv.number, e.currentTarget) }, "Download"))))))
    );
  }

  async function viewInvoice(number, button) {
    state.lastViewButton = button;
    const view = $("invoice-view");
    const body = $("invoice-view-body");
    view.hidden = false;
    $("invoice-view-title").textContent = `Invoice ${number}`;
    loading(body, `Loading ${number}…`);
    const result = await api(orgPath(`invoices/${encodeURIComponent(number)}`));
    if (!state.token) return;
    if (!result.ok) {
      failed(body, result, "such invoice");
    } else {
      done(body);
      const record = result.body;
      const title = record.kind === "statement" ? "Usage statement" : "Invoice";
      $("invoice-view-title").textContent = `${title} ${record.number}`;
      body.replaceChildren(
        el("dl", { class: "facts" },
          el("dt", { text: "Number" }), el("dd", { text: record.number }),
          el("dt", { text: "Type" }), el("dd", { text: KIND_LABELS[record.kind] || record.kind }),
          el("dt", { text: "Issue date" }), el("dd", { text: peopleDate(record.issue_date) }),
          el("dt", { text: "Due date" }), el("dd", { text: peopleDate(record.due_date) }),
          record.kind === "statement" ? null : [el("dt", { text: "Payable in" }), el("dd", { text: record.currency })],
          el("dt", { text: "Billing period" }), el("dd", { text: peoplePeriod(record.period_start, record.period_end) })),
        documentBody(record)
      );
    }
    $("invoice-view-title").focus();
  }

  /** Lines by section, taxes and totals: what the PDF prints (R-pdf-1), for a record or an
   * estimate. A statement (R-partner-1) has quantities only. */
  function documentBody(doc) {
    const statement = doc.kind === "statement";
    const currency = doc.currency;
    const parts = [];
    const grouped = new Map(SECTIONS.map((s) => [s, []]));
    for (const line of doc.lines) {
      if (!grouped.has(line.section)) grouped.set(line.section, []);
      grouped.get(line.section).push(line);
    }
    const sections = [...grouped].filter(([, lines]) => lines.length);
    if (!sections.length) {
      parts.push(el("h3", { text: "Charges" }), el("p", { text: "No charges in this period." }));
    }
    for (const [section, lines] of sections) {
      parts.push(el("h3", { text: section }));
      parts.push(el("table", { class: "lines" },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: "Description" }),
          el("th", { scope: "col", text: "Service period" }),
          el("th", { scope: "col", class: "num", text: "Quantity" }),
          statement ? null : el("th", { scope: "col", class: "num", text: "Rate" }),
          statement ? null : el("th", { scope: "col", class: "num", text: "Amount" }))),
        el("tbody", {}, lines.map((line) => el("tr", {},
          el("td", { text: line.description }),
          el("td", { text: peoplePeriod(line.service_start, line.service_end) }),
          el("td", { class: "num", text: quantity(line.quantity) }),
          statement ? null : el("td", { class: "num", text: rate(line.rate, currency) }),
          statement ? null : el("td", { class: "num", text: money(line.amount, currency) }))))));
    }
    if (!statement) {
      parts.push(el("table", { class: "totals" },
        el("tbody", {}, el("tr", {}, el("th", { scope: "row", text: "Subtotal" }), el("td", { class: "num", text: money(doc.subtotal, currency) })))));
      parts.push(el("h3", { text: "Taxes and fees" }));
      if (!doc.taxes.length) {
        parts.push(el("p", { text: "No taxes or fees apply." }));
      } else {
        parts.push(el("table", { class: "taxes" },
          el("thead", {}, el("tr", {},
            el("th", { scope: "col", text: "Tax or fee" }),
            el("th", { scope: "col", class: "num", text: "Rate" }),
            el("th", { scope: "col", class: "num", text: "Amount" }))),
          el("tbody", {}, doc.taxes.map((tax) => el("tr", {},
            el("td", { text: tax.name }),
            el("td", { class: "num", text: taxRate(tax.rate) }),
            el("td", { class: "num", text: money(tax.amount, currency) }))))));
      }
      parts.push(el("table", { class: "totals" },
        el("tbody", {}, el("tr", { class: "total" }, el("th", { scope: "row", text: "Total" }), el("td", { class: "num", id: doc.number ? "invoice-total" : "btd-total", text: money(doc.total, currency) })))));
    }
    if (doc.warnings && doc.warnings.length) {
      parts.push(el("div", { class: "message warn" },
        el("p", {}, el("strong", { text: "Notes" })),
        el("ul", {}, doc.warnings.map((w) => el("li", { text: w })))));
    }
    return el("div", {}, parts);
  }

  // Download: a fresh signed URL each time (R-api-2), opened in a new tab.
  async function downloadPdf(number, button) {
    // A tab opened now, while the click still counts as the user's, is never a blocked popup.
    const tab = window.open("", "_blank");
    if (tab) tab.opener = null;
    button.disabled = true;
    say(`Getting a download link for ${number}…`);
    const result = await api(orgPath(`invoices/${encodeURIComponent(number)}/pdf`));
    button.disabled = false;
    const action = $("invoice-action");
    if (!result.ok) {
      if (tab) tab.close();
      say("");
      if (!state.token) return;
      const [title, detail] = problem(result, "this invoice's PDF");
      return showMessage(action, "error", title, detail);
    }
    const expires = new Date(result.body.expires_at).toLocaleTimeString(LOCALE);
    const link = el("a", { href: result.body.url, target: "_blank", rel: "noopener", id: "pdf-link", text: `open the PDF of ${number}` });
    showMessage(action, "", `The PDF of ${number} opens in a new tab.`, null);
    action.firstChild.append(el("p", {}, "If it did not, ", link, ` (the link works until ${expires}).`));
    say(`The PDF of ${number} is ready.`);
    if (tab) tab.location.href = result.body.url;
  }

  // Usage reports: the five, over a range, as CSV (a fresh signed URL each time).
  function buildReports() {
    $("report-list").replaceChildren(...REPORTS.map(([id, name, what]) => el("li", {},
      el("div", {}, el("strong", { text: name }), el("span", { text: what })),
      el("button", { type: "button", "data-report": id, "aria-label": `Download ${name} CSV`, onclick: (e) => downloadReport(id, name, e.currentTarget) }, "Download CSV"))));
  }

  async function downloadReport(report, name, button) {
    defaultRange("rep-from", "rep-to", 30);
    const from = $("rep-from").value;
    const to = $("rep-to").value;
    const body = $("reports-body");
    button.disabled = true;
    loading(body, `Preparing ${name} for ${peopleDate(from)} – ${peopleDate(to)}…`);
    const result = await api(orgPath(`reports/${report}`), { from, to });
    button.disabled = false;
    if (!state.token) return;
    if (!result.ok) return failed(body, result, "usage reports");
    done(body);
    const link = el("a", { href: result.body.url, id: "report-link", text: `download ${name} again` });
    showMessage(body, "", `${name} (${peopleDate(from)} – ${peopleDate(to)}) is downloading.`, null);
    body.firstChild.append(el("p", {}, "If it does not start, ", link, "."));
    say(`${name} is ready.`);
    // The CSV is sent as an attachment: following the link downloads it and this page stays.
    el("a", { href: result.body.url }).click();
  }

  // -- signing in ---------------------------------------------------------------------------

  function signedIn(token) {
    const claims = jwtClaims(token);
    if (!claims || !claims.org_id) {
      signedOut("The sign-in gave a token without an org_id claim; this console needs one.");
      return;
    }
    state.token = token;
    state.claims = claims;
    state.page = null;
    $("nav").hidden = false;
    $("who").hidden = false;
    const who = claims.email || claims.name || claims.sub || "signed in";
    $("who-text").textContent = `${who} · ${claims.org_id}`;
    const page = window.location.hash.slice(1);
    show(PAGES.includes(page) ? page : "subscription", true);
    say(`Signed in to ${claims.org_id}.`);
  }

  function signedOut(note) {
    state.token = null;
    state.claims = null;
    state.page = null;
    $("nav").hidden = true;
    $("who").hidden = true;
    for (const name of PAGES) $(`page-${name}`).hidden = true;
    for (const id of ["subscription-body", "btd-body", "invoices-body", "invoice-action", "reports-body"]) {
      $(id).replaceChildren();
    }
    $("invoice-view").hidden = true;
    $("signin").hidden = false;
    $("signin-note").textContent = note || "";
    say("");
    document.title = "Sign in – cxbill admin console";
    $("signin-title").focus();
  }

  async function devSignIn(event) {
    event.preventDefault();
    const org = $("dev-org").value;
    const permissions = $("dev-permissions").value;
    const url = new URL("dev/token", API);
    url.searchParams.set("org_id", org);
    url.searchParams.set("permissions", permissions);
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) return signedOut("The development sign-in failed.");
    signedIn((await response.json()).token);
  }

  function setUpDevSignIn(config) {
    $("dev-signin").hidden = false;
    $("dev-org").replaceChildren(...(config.orgs || []).map((org) => el("option", { value: org, text: org })));
    if (!(config.orgs || []).length) {
      $("signin-note").textContent = "No org has a contract yet: upload one (cxbill upload) and reload.";
    }
    $("dev-permissions").replaceChildren(...(config.permission_sets || []).map((set) =>
      el("option", { value: set.permissions.join(","), text: set.label })));
    $("dev-signin").addEventListener("submit", devSignIn);
  }

  async function discovery(config) {
    const base = config.issuer.endsWith("/") ? config.issuer : config.issuer + "/";
    const response = await fetch(new URL(".well-known/openid-configuration", base));
    if (!response.ok) throw new Error(`the issuer's discovery answered ${response.status}`);
    return response.json();
  }

  function redirectUri(config) {
    return new URL(config.redirect_uri || "/console/", window.location.href).href;
  }

  async function oidcSignIn() {
    const config = state.config;
    try {
      const provider = await discovery(config);
      const verifier = randomText(48);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
      const pending = {
        verifier, state: randomText(16), nonce: randomText(16),
        token_endpoint: provider.token_endpoint, page: window.location.hash,
      };
      sessionStorage.setItem(PKCE_KEY, JSON.stringify(pending));
      const url = new URL(provider.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: "code",
        client_id: config.client_id,
        redirect_uri: redirectUri(config),
        scope: config.scopes || "openid",
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: b64url(digest),
        code_challenge_method: "S256",
      }).toString();
      window.location.assign(url.href);
    } catch (e) {
      signedOut(`Signing in failed: ${e.message}`);
    }
  }

  /** Back from the identity provider: the code for tokens, with the verifier (PKCE). */
  async function finishOidc(config) {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return false;
    const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
    sessionStorage.removeItem(PKCE_KEY);
    const clean = new URL(window.location.href);
    clean.search = "";
    clean.hash = (pending && pending.page) || "";
    window.history.replaceState(null, "", clean.href); // the code never stays in the address
    if (params.has("error")) {
      signedOut(`Signing in failed: ${params.get("error_description") || params.get("error")}`);
      return true;
    }
    if (!pending || pending.state !== params.get("state")) {
      signedOut("Signing in failed: the answer did not match this sign-in. Try again.");
      return true;
    }
    try {
      const response = await fetch(pending.token_endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: params.get("code"),
          redirect_uri: redirectUri(config),
          client_id: config.client_id,
          code_verifier: pending.verifier,
        }),
      });
      const tokens = await response.json();
      if (!response.ok) throw new Error(tokens.error_description || tokens.error || response.status);
      const id = tokens.id_token ? jwtClaims(tokens.id_token) : null;
      if (id && id.nonce && id.nonce !== pending.nonce) throw new Error("the ID token's nonce differs");
      const access = tokens.access_token && tokens.access_token.split(".").length === 3 ? tokens.access_token : null;
      signedIn(access || tokens.id_token);
    } catch (e) {
      signedOut(`Signing in failed: ${e.message}`);
    }
    return true;
  }

  // -- start --------------------------------------------------------------------------------

  async function start() {
    buildReports();
    $("sign-out").addEventListener("click", () => signedOut("You signed out."));
    $("invoice-range").addEventListener("submit", (e) => { e.preventDefault(); loadInvoices(); });
    $("report-range").addEventListener("submit", (e) => e.preventDefault());
    $("invoice-view-close").addEventListener("click", () => {
      $("invoice-view").hidden = true;
      if (state.lastViewButton) state.lastViewButton.focus();
    });
    $("oidc-button").addEventListener("click", oidcSignIn);
    window.addEventListener("hashchange", () => show(window.location.hash.slice(1), true));
    try {
      const response = await fetch("config.json", { cache: "no-store" });
      state.config = await response.json();
    } catch (e) {
      state.config = { mode: "none" };
    }
    defaultRange("rep-from", "rep-to", 30);
    if (state.config.mode === "dev") {
      setUpDevSignIn(state.config);
      signedOut("");
    } else if (state.config.mode === "oidc" && state.config.issuer && state.config.client_id) {
      $("oidc-signin").hidden = false;
      if (!(await finishOidc(state.config))) signedOut("");
    } else {
      signedOut("This console has no sign-in configured (ConsoleClientId and JwtIssuer).");
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
