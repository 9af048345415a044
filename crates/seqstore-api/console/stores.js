// Sequence stores and reference stores: lists, creation, deletion, a store's page.

import { call, p } from "./api.js";
import { copyable, errorBox, field, fields, guarded, h, heading, pageQuery, pager, select,
  statusBadge, table, time } from "./ui.js";
import { readSetList } from "./readsets.js";

const FAMILIES = ["MD5up", "SHA256up", "SHA512up"];

export async function sequenceStoresPage(ctx) {
  const state = { tokens: [], token: undefined };
  const list = h("div", { id: "sequence-stores" });
  const errors = h("div");
  const form = h("form", { id: "create-sequence-store", class: "card inline" },
    h("h2", {}, "Create a sequence store"),
    field("Name", { name: "name", required: true, maxlength: 127 }),
    field("Description", { name: "description", maxlength: 255 }),
    select("ETag algorithm family", "eTagAlgorithmFamily", FAMILIES),
    h("button", { type: "submit", class: "primary" }, "Create"),
    errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: data.get("name"), eTagAlgorithmFamily: data.get("eTagAlgorithmFamily"),
      clientToken: crypto.randomUUID() };
    if (data.get("description")) body.description = data.get("description");
    const created = await guarded(errors, () => call(ctx.credentials, "POST", "/sequencestore", { body }));
    if (created) {
      form.reset();
      errors.replaceChildren(h("p", { role: "status" }, `Created sequence store ${created.id}.`));
      state.tokens = [];
      state.token = undefined;
      load();
    }
  });

  async function load() {
    const answer = await guarded(list, () => call(ctx.credentials, "POST", "/sequencestores",
      { query: pageQuery(state), body: {} }));
    if (!answer || !ctx.alive()) return;
    const rows = answer.sequenceStores.map((s) => [
      h("a", { href: `#/sequence-stores/${s.id}` }, s.name || s.id),
      h("code", {}, s.id),
      s.eTagAlgorithmFamily || "—",
      statusBadge(s.status),
      time(s.creationTime),
      deleteButton(ctx, `sequence store ${s.name || s.id}`, p`/sequencestore/${s.id}`, list, load),
    ]);
    list.replaceChildren(
      table("Sequence stores", ["Name", "ID", "ETag family", "Status", "Created", "Actions"], rows,
        "No sequence stores yet."),
      pager(state, answer.nextToken, load));
  }

  ctx.main.append(heading("Sequence stores"), list, form);
  await load();
}

function deleteButton(ctx, what, path, slot, reload) {
  const button = h("button", { type: "button", class: "small danger" }, "Delete");
  button.setAttribute("aria-label", `Delete ${what}`);
  button.addEventListener("click", async () => {
    if (!window.confirm(`Delete ${what}? This cannot be undone.`)) return;
    try {
      await call(ctx.credentials, "DELETE", path);
      reload();
    } catch (e) {
      slot.prepend(errorBox(e));
    }
  });
  return button;
}

export async function sequenceStorePage(ctx, id) {
  const head = heading(`Sequence store ${id}`);
  const details = h("div");
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Sequence stores"), " / ", id),
    head, details);
  const store = await guarded(details, () => call(ctx.credentials, "GET", p`/sequencestore/${id}`));
  if (!store) return;
  head.textContent = `Sequence store ${store.name || store.id}`;
  details.replaceChildren(
    fields([
      ["ID", h("code", {}, store.id)],
      ["ARN", copyable(store.arn, "store ARN")],
      ["Description", store.description],
      ["Status", statusBadge(store.status)],
      ["ETag algorithm family", store.eTagAlgorithmFamily],
      ["S3 URI", copyable(store.s3Access?.s3Uri, "store S3 URI")],
      ["S3 access point ARN", copyable(store.s3Access?.s3AccessPointArn, "access point ARN")],
      ["Fallback location", store.fallbackLocation],
      ["Created", time(store.creationTime)],
      ["Updated", time(store.updateTime)],
    ]),
    h("p", { class: "actions" },
      h("a", { class: "button primary", href: `#/sequence-stores/${id}/upload`, id: "upload-link" },
        "Upload a read set"),
      " ",
      h("a", { class: "button", href: `#/sequence-stores/${id}/jobs` }, "Jobs")));
  ctx.main.append(h("h2", {}, "Read sets"));
  await readSetList(ctx, id);
}

export async function referenceStoresPage(ctx) {
  const state = { tokens: [], token: undefined };
  const list = h("div", { id: "reference-stores" });
  const errors = h("div");
  const form = h("form", { id: "create-reference-store", class: "card inline" },
    h("h2", {}, "Create a reference store"),
    field("Name", { name: "name", required: true, maxlength: 127 }),
    field("Description", { name: "description", maxlength: 255 }),
    h("button", { type: "submit", class: "primary" }, "Create"),
    errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: data.get("name") };
    if (data.get("description")) body.description = data.get("description");
    const created = await guarded(errors, () => call(ctx.credentials, "POST", "/referencestore", { body }));
    if (created) {
      form.reset();
      load();
    }
  });

  async function load() {
    const answer = await guarded(list, () => call(ctx.credentials, "POST", "/referencestores",
      { query: pageQuery(state), body: {} }));
    if (!answer || !ctx.alive()) return;
    const rows = answer.referenceStores.map((s) => [
      h("a", { href: `#/reference-stores/${s.id}` }, s.name || s.id),
      h("code", {}, s.id),
      s.description || "—",
      time(s.creationTime),
      deleteButton(ctx, `reference store ${s.name || s.id}`, p`/referencestore/${s.id}`, list, load),
    ]);
    list.replaceChildren(
      table("Reference stores", ["Name", "ID", "Description", "Created", "Actions"], rows,
        "No reference stores yet."),
      pager(state, answer.nextToken, load));
  }

  ctx.main.append(heading("Reference stores"), list, form);
  await load();
}

export async function referenceStorePage(ctx, id) {
  const head = heading(`Reference store ${id}`);
  const details = h("div");
  const refs = h("div", { id: "references" });
  const jobs = h("div", { id: "reference-import-jobs" });
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/reference-stores" }, "Reference stores"), " / ", id),
    head, details, h("h2", {}, "References"), refs, h("h2", {}, "Import jobs"), jobs);
  const store = await guarded(details, () => call(ctx.credentials, "GET", p`/referencestore/${id}`));
  if (!store) return;
  head.textContent = `Reference store ${store.name || store.id}`;
  details.replaceChildren(fields([
    ["ID", h("code", {}, store.id)],
    ["ARN", copyable(store.arn, "reference store ARN")],
    ["Description", store.description],
    ["Created", time(store.creationTime)],
  ]));

  const state = { tokens: [], token: undefined };
  async function loadReferences() {
    const answer = await guarded(refs, () => call(ctx.credentials, "POST",
      p`/referencestore/${id}/references`, { query: pageQuery(state), body: {} }));
    if (!answer || !ctx.alive()) return;
    refs.replaceChildren(
      table("References", ["Name", "ID", "Status", "MD5", "ARN", "Created"],
        answer.references.map((r) => [r.name || "—", h("code", {}, r.id), statusBadge(r.status),
          h("code", {}, r.md5), copyable(r.arn, `ARN of reference ${r.name || r.id}`),
          time(r.creationTime)]),
        "No references in this store."),
      pager(state, answer.nextToken, loadReferences));
  }
  const answer = await guarded(jobs, () => call(ctx.credentials, "POST",
    p`/referencestore/${id}/importjobs`, { query: [["maxResults", 50]], body: {} }));
  if (answer) {
    jobs.replaceChildren(table("Reference import jobs", ["Job", "Status", "Created", "Completed"],
      answer.importJobs.map((j) => [
        h("a", { href: `#/reference-stores/${id}/jobs/${j.id}` }, j.id),
        statusBadge(j.status), time(j.creationTime), time(j.completionTime)]),
      "No import jobs."));
  }
  await loadReferences();
}
