// Moving files: a multipart read set upload from the browser with a progress bar, and the
// download of a read set file part by part (GetReadSet) into a Blob saved by the browser.

import { bytes, call, p, putPart } from "./api.js";
import { errorBox, field, h, heading, progressBar, select, statusBadge } from "./ui.js";

/** The largest part UploadReadSetPart takes, and what the AWS tools send. */
const PART_SIZE = 100 * 1024 * 1024;
const FILE_TYPES = ["FASTQ", "BAM", "UBAM", "CRAM"];

export async function uploadPage(ctx, storeId) {
  const referenceField = field("Reference ARN (BAM and CRAM)", { name: "referenceArn" });
  const secondField = field("Second file (paired FASTQ, optional)", { name: "source2", type: "file" });
  const typeSelect = select("File type", "sourceFileType", FILE_TYPES);
  const form = h("form", { id: "upload-form", class: "card" },
    field("Name", { name: "name", required: true, maxlength: 127 }),
    field("Subject ID", { name: "subjectId", required: true, maxlength: 127 }),
    field("Sample ID", { name: "sampleId", required: true, maxlength: 127 }),
    field("Description (optional)", { name: "description", maxlength: 255 }),
    field("Generated from (optional)", { name: "generatedFrom", maxlength: 127 }),
    typeSelect,
    referenceField,
    field("File", { name: "source1", type: "file", required: true }),
    secondField,
    h("button", { type: "submit", class: "primary" }, "Upload"));
  const kind = typeSelect.querySelector("select");
  const showFields = () => {
    referenceField.hidden = !["BAM", "CRAM"].includes(kind.value);
    referenceField.querySelector("input").required = !referenceField.hidden;
    secondField.hidden = kind.value !== "FASTQ";
  };
  kind.addEventListener("change", showFields);
  showFields();

  const progress = progressBar("upload-progress", "Upload progress");
  progress.hidden = true;
  const status = h("div", { id: "upload-status", role: "status", "aria-live": "polite" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form); // before disabling: disabled fields are left out of it
    const controls = form.querySelectorAll("input, select, button");
    controls.forEach((c) => { c.disabled = true; });
    try {
      await upload(ctx, storeId, data, progress, status);
    } catch (e) {
      status.append(errorBox(e));
      controls.forEach((c) => { c.disabled = false; });
    }
  });

  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Sequence stores"), " / ",
      h("a", { href: `#/sequence-stores/${storeId}` }, storeId), " / upload"),
    heading("Upload a read set"),
    h("p", {}, "CreateMultipartReadSetUpload, then the files in parts of up to 100 MiB, then " +
      "CompleteMultipartReadSetUpload; the server then checks the files and computes the ETag."),
    form, progress, status);
}

async function upload(ctx, storeId, data, progress, status) {
  const type = data.get("sourceFileType");
  const files = [["SOURCE1", data.get("source1")]];
  const second = data.get("source2");
  if (type === "FASTQ" && second && second.size > 0) files.push(["SOURCE2", second]);
  const body = { sourceFileType: type, name: data.get("name"), subjectId: data.get("subjectId"),
    sampleId: data.get("sampleId"), clientToken: crypto.randomUUID() };
  for (const name of ["description", "generatedFrom"]) {
    if (data.get(name)) body[name] = data.get(name);
  }
  if (["BAM", "CRAM"].includes(type) || data.get("referenceArn")) {
    body.referenceArn = data.get("referenceArn");
  }

  const total = files.reduce((sum, [, file]) => sum + file.size, 0);
  progress.hidden = false;
  progress.update(0, total);
  status.replaceChildren(h("p", {}, "Starting the upload…"));
  const started = await call(ctx.credentials, "POST", p`/sequencestore/${storeId}/upload`, { body });
  const uploadId = started.uploadId;
  const parts = [];
  let sent = 0;
  try {
    for (const [source, file] of files) {
      const count = Math.max(1, Math.ceil(file.size / PART_SIZE));
      for (let n = 1; n <= count; n += 1) {
        const piece = file.slice((n - 1) * PART_SIZE, Math.min(n * PART_SIZE, file.size));
        status.replaceChildren(h("p", {}, `Sending ${source} part ${n} of ${count}…`));
        const answer = await putPart(ctx.credentials, p`/sequencestore/${storeId}/upload/${uploadId}/part`,
          [["partSource", source], ["partNumber", n]], piece,
          (loaded) => progress.update(sent + loaded, total));
        sent += piece.size;
        progress.update(sent, total);
        parts.push({ partNumber: n, partSource: source, checksum: answer.checksum });
      }
    }
  } catch (e) {
    // Leave nothing staged behind a failed upload; its own error is the one to show.
    await call(ctx.credentials, "DELETE", p`/sequencestore/${storeId}/upload/${uploadId}/abort`).catch(() => {});
    throw e;
  }
  const done = await call(ctx.credentials, "POST",
    p`/sequencestore/${storeId}/upload/${uploadId}/complete`, { body: { parts } });
  const link = h("a", { href: `#/sequence-stores/${storeId}/read-sets/${done.readSetId}`,
    id: "read-set-link" }, `Read set ${done.readSetId}`);
  const badge = h("span", { id: "upload-readset-status" }, statusBadge("PROCESSING_UPLOAD"));
  status.replaceChildren(h("p", {}, "Uploaded. ", link, ": ", badge));
  for (;;) {
    const meta = await call(ctx.credentials, "GET",
      p`/sequencestore/${storeId}/readset/${done.readSetId}/metadata`);
    badge.replaceChildren(statusBadge(meta.status));
    if (meta.status !== "PROCESSING_UPLOAD") {
      if (meta.statusMessage) status.append(h("p", {}, meta.statusMessage));
      return;
    }
    if (!ctx.alive()) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A Download button for one file of an ACTIVE read set: GetReadSet part by part, in
 *  order, one part in flight at a time, then saved under the file's S3 name. */
export function downloadButton(ctx, storeId, meta, key, source, file) {
  const button = h("button", { type: "button", class: "small", id: `download-${key}`,
    "aria-label": `Download ${key}` }, "Download");
  const progress = progressBar(`download-progress-${key}`, `Download progress of ${key}`);
  progress.hidden = true;
  const slot = h("span", { class: "download" });
  const name = file.s3Access?.s3Uri?.split("/").pop() || `${meta.name || meta.id}_${key}`;
  button.addEventListener("click", async () => {
    button.disabled = true;
    progress.hidden = false;
    slot.replaceChildren();
    const total = file.contentLength ?? 0;
    const parts = file.totalParts ?? 1;
    const chunks = [];
    let received = 0;
    progress.update(0, total);
    try {
      for (let n = 1; n <= parts; n += 1) {
        const chunk = await bytes(ctx.credentials, p`/sequencestore/${storeId}/readset/${meta.id}`,
          [["partNumber", n], ["file", source]]);
        chunks.push(chunk);
        received += chunk.byteLength;
        progress.update(received, Math.max(total, received));
      }
      const url = URL.createObjectURL(new Blob(chunks, { type: "application/octet-stream" }));
      const save = h("a", { href: url, download: name, id: `save-${key}` }, `Save ${name} again`);
      slot.replaceChildren(save);
      save.click();
    } catch (e) {
      slot.replaceChildren(errorBox(e));
    } finally {
      button.disabled = false;
    }
  });
  return h("span", {}, button, " ", progress, " ", slot);
}
