// Read sets: a store's list with ListReadSets' filters and paging, and a read set's page
// (metadata, ETag, files with S3 URIs and downloads, tags, activation of archived ones).

import { call, p } from "./api.js";
import { copyable, errorBox, field, fields, formatBytes, guarded, h, heading, pageQuery, pager,
  select, statusBadge, table, time } from "./ui.js";
import { downloadButton } from "./transfer.js";

const STATUSES = ["", "ACTIVE", "PROCESSING_UPLOAD", "UPLOAD_FAILED", "ARCHIVED", "ACTIVATING",
  "DELETING", "DELETED"];
/** While a read set is in one of these, its page asks again every second. */
const SETTLING = new Set(["PROCESSING_UPLOAD", "ACTIVATING", "DELETING"]);

/** The filter form, table and pager of ListReadSets, appended to the page. */
export async function readSetList(ctx, storeId) {
  const state = { tokens: [], token: undefined, filter: {}, maxResults: 20 };
  const results = h("div", { id: "read-sets" });
  const form = h("form", { id: "read-set-filter", class: "card filters" },
    h("h3", {}, "Filter"),
    h("div", { class: "grid" },
      field("Name", { name: "name" }),
      select("Status", "status", STATUSES.map((s) => [s, s || "any"])),
      field("Sample ID", { name: "sampleId" }),
      field("Subject ID", { name: "subjectId" }),
      field("Reference ARN", { name: "referenceArn" }),
      select("Created by", "creationType", [["", "any"], "IMPORT", "UPLOAD"]),
      field("Created after", { name: "createdAfter", type: "datetime-local", step: "1" }),
      field("Created before", { name: "createdBefore", type: "datetime-local", step: "1" }),
      select("Per page", "maxResults", ["20", "50", "100", "5"])),
    h("button", { type: "submit" }, "Apply"),
    " ",
    h("button", { type: "reset" }, "Clear"));
  const apply = (event) => {
    event?.preventDefault();
    const data = new FormData(form);
    const filter = {};
    for (const name of ["name", "status", "sampleId", "subjectId", "referenceArn", "creationType"]) {
      const value = String(data.get(name) || "").trim();
      if (value) filter[name] = value;
    }
    for (const name of ["createdAfter", "createdBefore"]) {
      const value = data.get(name);
      if (value) filter[name] = new Date(value).toISOString();
    }
    state.filter = filter;
    state.maxResults = Number(data.get("maxResults"));
    state.tokens = [];
    state.token = undefined;
    load();
  };
  form.addEventListener("submit", apply);
  form.addEventListener("reset", () => setTimeout(apply, 0));

  async function load() {
    const answer = await guarded(results, () => call(ctx.credentials, "POST",
      p`/sequencestore/${storeId}/readsets`, { query: pageQuery(state), body: { filter: state.filter } }));
    if (!answer || !ctx.alive()) return;
    const rows = answer.readSets.map((r) => [
      h("a", { href: `#/sequence-stores/${storeId}/read-sets/${r.id}` }, r.name || r.id),
      h("code", {}, r.id),
      statusBadge(r.status),
      r.fileType,
      r.subjectId || "—",
      r.sampleId || "—",
      time(r.creationTime),
    ]);
    results.replaceChildren(
      table("Read sets", ["Name", "ID", "Status", "Type", "Subject", "Sample", "Created"], rows,
        "No read sets match."),
      pager(state, answer.nextToken, load));
  }

  ctx.main.append(form, results);
  await load();
}

export async function readSetPage(ctx, storeId, id) {
  const head = heading(`Read set ${id}`);
  const body = h("div", { id: "read-set" });
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Sequence stores"), " / ",
      h("a", { href: `#/sequence-stores/${storeId}` }, storeId), " / ", id),
    head, body);

  let shownStatus;
  let tagsShown = false;
  for (;;) {
    let meta;
    try {
      meta = await call(ctx.credentials, "GET", p`/sequencestore/${storeId}/readset/${id}/metadata`);
    } catch (e) {
      body.replaceChildren(errorBox(e));
      return;
    }
    if (!ctx.alive()) return;
    if (meta.status !== shownStatus) {
      shownStatus = meta.status;
      head.textContent = `Read set ${meta.name || meta.id}`;
      body.replaceChildren(...readSetSections(ctx, storeId, meta));
      tagsShown = false;
    }
    if (!tagsShown) {
      tagsShown = true;
      await showTags(ctx, meta.arn, body.querySelector("#tags"));
    }
    if (!SETTLING.has(meta.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (!ctx.alive()) return;
  }
}

function readSetSections(ctx, storeId, meta) {
  const info = meta.sequenceInformation || {};
  const etag = meta.etag || {};
  const sections = [
    fields([
      ["ID", h("code", {}, meta.id)],
      ["ARN", copyable(meta.arn, "read set ARN")],
      ["Status", statusBadge(meta.status), "readset-status"],
      ["Status message", meta.statusMessage, "readset-status-message"],
      ["File type", meta.fileType],
      ["Subject ID", meta.subjectId],
      ["Sample ID", meta.sampleId],
      ["Description", meta.description],
      ["Reference ARN", meta.referenceArn ? copyable(meta.referenceArn, "reference ARN") : null],
      ["Created by", meta.creationType],
      ["Creation job", meta.creationJobId],
      ["Created", time(meta.creationTime)],
      ["Reads", info.totalReadCount?.toLocaleString()],
      ["Bases", info.totalBaseCount?.toLocaleString()],
      ["Generated from", info.generatedFrom],
      ["Alignment", info.alignment],
    ]),
    h("h2", {}, "ETag"),
    fields([
      ["Algorithm", etag.algorithm, "etag-algorithm"],
      ["source1", etag.source1 ? h("code", {}, etag.source1) : null, "etag-source1"],
      ["source2", etag.source2 ? h("code", {}, etag.source2) : null, "etag-source2"],
    ]),
  ];
  if (meta.status === "ARCHIVED" || meta.status === "ACTIVATING") {
    sections.push(h("h2", {}, "Archive"), archiveSection(ctx, storeId, meta));
  }
  sections.push(h("h2", {}, "Files"), filesTable(ctx, storeId, meta));
  sections.push(h("h2", {}, "Tags"), h("div", { id: "tags" }));
  return sections;
}

function filesTable(ctx, storeId, meta) {
  const files = meta.files || {};
  const rows = [];
  for (const [key, source] of [["source1", "SOURCE1"], ["source2", "SOURCE2"], ["index", "INDEX"]]) {
    const file = files[key];
    if (!file) continue;
    const uri = file.s3Access?.s3Uri;
    rows.push([
      key,
      formatBytes(file.contentLength),
      formatBytes(file.partSize),
      file.totalParts ?? "—",
      copyable(uri, `S3 URI of ${key}`),
      meta.status === "ACTIVE"
        ? downloadButton(ctx, storeId, meta, key, source, file)
        : h("span", { class: "muted" }, meta.status === "ARCHIVED" ? "activate first" : "not yet"),
    ]);
  }
  return table("Files", ["File", "Size", "Part size", "Parts", "S3 URI", "Download"], rows, "No files yet.");
}

function archiveSection(ctx, storeId, meta) {
  const slot = h("div");
  if (meta.status === "ACTIVATING") {
    return h("p", { role: "status" }, "Being activated; this page updates when it is done.");
  }
  const button = h("button", { type: "button", class: "primary", id: "activate" }, "Activate");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const job = await guarded(slot, () => call(ctx.credentials, "POST",
      p`/sequencestore/${storeId}/activationjob`,
      { body: { sources: [{ readSetId: meta.id }], clientToken: crypto.randomUUID() } }));
    if (job) {
      ctx.go(`#/sequence-stores/${storeId}/jobs/activation/${job.id}`);
    } else {
      button.disabled = false;
    }
  });
  return h("div", {},
    h("p", {}, "This read set is archived: its metadata stays, its files must be activated " +
      "(StartReadSetActivationJob) before they can be read."),
    button, slot);
}

async function showTags(ctx, arn, slot) {
  if (!slot) return;
  try {
    const answer = await call(ctx.credentials, "GET", p`/tags/${arn}`);
    const entries = Object.entries(answer.tags || {}).sort();
    slot.replaceChildren(table("Tags", ["Key", "Value"], entries, "No tags."));
  } catch (e) {
    slot.replaceChildren(errorBox(e));
  }
}
