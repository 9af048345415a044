// The console's shell: sign-in, navigation and the hash routes of its pages.

import { call, serverConfig, session } from "./api.js";
import { errorBox, field, h, heading } from "./ui.js";
import { referenceStorePage, referenceStoresPage, sequenceStorePage, sequenceStoresPage } from "./stores.js";
import { readSetPage } from "./readsets.js";
import { uploadPage } from "./transfer.js";
import { jobPage, jobsPage, referenceJobPage } from "./jobs.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let generation = 0;

const routes = [
  [/^\/?$/, (ctx) => sequenceStoresPage(ctx)],
  [/^\/sequence-stores\/([^/]+)$/, (ctx, id) => sequenceStorePage(ctx, id)],
  [/^\/sequence-stores\/([^/]+)\/upload$/, (ctx, id) => uploadPage(ctx, id)],
  [/^\/sequence-stores\/([^/]+)\/read-sets\/([^/]+)$/, (ctx, id, rs) => readSetPage(ctx, id, rs)],
  [/^\/sequence-stores\/([^/]+)\/jobs$/, (ctx, id) => jobsPage(ctx, id)],
  [/^\/sequence-stores\/([^/]+)\/jobs\/(import|activation|export)\/([^/]+)$/,
    (ctx, id, kind, job) => jobPage(ctx, id, kind, job)],
  [/^\/reference-stores$/, (ctx) => referenceStoresPage(ctx)],
  [/^\/reference-stores\/([^/]+)$/, (ctx, id) => referenceStorePage(ctx, id)],
  [/^\/reference-stores\/([^/]+)\/jobs\/([^/]+)$/, (ctx, id, job) => referenceJobPage(ctx, id, job)],
];

function context(credentials) {
  const mine = ++generation;
  // Each page draws into its own box: a page still loading when the user moves on keeps
  // drawing into a box that is no longer shown.
  const page = h("div");
  main.replaceChildren(page);
  return {
    credentials,
    main: page,
    /** False once the user has gone to another page: pollers stop then. */
    alive: () => mine === generation,
    go: (hash) => { location.hash = hash; },
  };
}

async function render() {
  const credentials = session.load();
  renderNav(credentials);
  if (!credentials) {
    await signInPage();
    return;
  }
  const path = decodeURIComponent(location.hash.replace(/^#/, ""));
  const ctx = context(credentials);
  for (const [pattern, page] of routes) {
    const m = path.match(pattern);
    if (m) {
      // Every page puts its heading up before its first request: focus it at once, so
      // keyboard and screen reader users start on the new page.
      const loaded = page(ctx, ...m.slice(1));
      ctx.main.querySelector("#page-heading")?.focus();
      await loaded;
      return;
    }
  }
  ctx.main.append(heading("Not found"), h("p", {}, "No console page lives at this address. ",
    h("a", { href: "#/" }, "Sequence stores")));
}

function renderNav(credentials) {
  if (!credentials) {
    nav.replaceChildren();
    return;
  }
  const signOut = h("button", { type: "button", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => {
    session.clear();
    location.hash = "";
    render();
  });
  nav.replaceChildren(
    h("ul", {},
      h("li", {}, h("a", { href: "#/" }, "Sequence stores")),
      h("li", {}, h("a", { href: "#/reference-stores" }, "Reference stores"))),
    h("span", { class: "who" }, "Signed in as ", h("code", {}, credentials.accessKeyId),
      ` (${credentials.region})`),
    signOut);
}

async function signInPage() {
  generation += 1;
  const config = await serverConfig();
  const slot = h("div", { id: "sign-in-error" });
  const form = h("form", { id: "sign-in", class: "card" },
    field("Access key ID", { name: "accessKeyId", required: true, autocomplete: "username",
      spellcheck: "false" }),
    field("Secret access key", { name: "secretAccessKey", type: "password", required: true,
      autocomplete: "current-password" }),
    field("Session token (optional)", { name: "sessionToken", type: "password", autocomplete: "off" }),
    field("Region", { name: "region", required: true, value: config.region || "us-east-1" }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    slot);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const credentials = {
      accessKeyId: data.get("accessKeyId").trim(),
      secretAccessKey: data.get("secretAccessKey").trim(),
      sessionToken: data.get("sessionToken").trim() || undefined,
      region: data.get("region").trim(),
    };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    slot.replaceChildren(h("p", { role: "status" }, "Checking the keys…"));
    try {
      // Any signed call proves the keys; this one reads the least.
      await call(credentials, "POST", "/sequencestores", { query: [["maxResults", 1]], body: {} });
      session.save(credentials);
      render();
    } catch (e) {
      slot.replaceChildren(errorBox(e));
      button.disabled = false;
    }
  });
  main.replaceChildren(heading("Sign in"),
    h("p", {}, "Sign in with an access key of this server (",
      h("code", {}, "seqstore keys create"),
      "). Requests are signed in this browser with SigV4, so the console can do exactly what " +
      "the key may do. The keys stay in this tab's session storage until you sign out or " +
      "close the tab."),
    form);
  document.getElementById("page-heading").focus();
}

window.addEventListener("hashchange", render);
render();
