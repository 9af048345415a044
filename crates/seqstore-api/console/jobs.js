// Jobs: a sequence store's import, activation and export jobs, and one job with the
// status of each of its items (also reference import jobs).

import { call, p } from "./api.js";
import { copyable, errorBox, fields, guarded, h, heading, statusBadge, table, time } from "./ui.js";

const KINDS = {
  import: { title: "Import jobs", list: "importjobs", key: "importJobs", one: "importjob" },
  activation: { title: "Activation jobs", list: "activationjobs", key: "activationJobs", one: "activationjob" },
  export: { title: "Export jobs", list: "exportjobs", key: "exportJobs", one: "exportjob" },
};
const FINISHED = new Set(["COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"]);

export async function jobsPage(ctx, storeId) {
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Sequence stores"), " / ",
      h("a", { href: `#/sequence-stores/${storeId}` }, storeId), " / jobs"),
    heading(`Jobs of sequence store ${storeId}`));
  for (const [kind, def] of Object.entries(KINDS)) {
    const slot = h("div", { id: `${kind}-jobs` });
    ctx.main.append(h("h2", {}, def.title), slot);
    const answer = await guarded(slot, () => call(ctx.credentials, "POST",
      p`/sequencestore/${storeId}/` + def.list, { query: [["maxResults", 100]], body: {} }));
    if (!answer) continue;
    slot.replaceChildren(table(def.title, ["Job", "Status", "Created", "Completed"],
      (answer[def.key] || []).map((j) => [
        h("a", { href: `#/sequence-stores/${storeId}/jobs/${kind}/${j.id}` }, j.id),
        statusBadge(j.status), time(j.creationTime), time(j.completionTime)]),
      "None."));
  }
}

/** Shows a job and asks again every two seconds until it has finished. */
async function pollJob(ctx, body, fetchJob, render) {
  for (;;) {
    let job;
    try {
      job = await fetchJob();
    } catch (e) {
      body.replaceChildren(errorBox(e));
      return;
    }
    if (!ctx.alive()) return;
    body.replaceChildren(...render(job));
    if (FINISHED.has(job.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    if (!ctx.alive()) return;
  }
}

function summary(job, extra = []) {
  return fields([
    ["ID", h("code", {}, job.id)],
    ["Status", statusBadge(job.status), "job-status"],
    ["Status message", job.statusMessage],
    ...extra,
    ["Created", time(job.creationTime)],
    ["Completed", time(job.completionTime)],
  ]);
}

function readSetLink(storeId, id) {
  return id ? h("a", { href: `#/sequence-stores/${storeId}/read-sets/${id}` }, id) : "—";
}

export async function jobPage(ctx, storeId, kind, jobId) {
  const def = KINDS[kind];
  const body = h("div", { id: "job" });
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Sequence stores"), " / ",
      h("a", { href: `#/sequence-stores/${storeId}` }, storeId), " / ",
      h("a", { href: `#/sequence-stores/${storeId}/jobs` }, "jobs"), " / ", jobId),
    heading(`${def.title.replace(/s$/, "")} ${jobId}`), body);
  const path = p`/sequencestore/${storeId}/${def.one}/${jobId}`;
  await pollJob(ctx, body, () => call(ctx.credentials, "GET", path), (job) => {
    if (kind === "import") {
      return [summary(job, [["Role ARN", job.roleArn]]), h("h2", {}, "Items"),
        table("Import items", ["Source files", "Type", "Name", "Status", "Message", "Read set"],
          (job.sources || []).map((s) => [
            h("span", {}, copyable(s.sourceFiles?.source1, "source1 URI"),
              s.sourceFiles?.source2 ? h("br") : null,
              s.sourceFiles?.source2 ? copyable(s.sourceFiles.source2, "source2 URI") : null),
            s.sourceFileType, s.name || "—", statusBadge(s.status), s.statusMessage || "—",
            readSetLink(storeId, s.readSetId)]))];
    }
    if (kind === "activation") {
      return [summary(job), h("h2", {}, "Items"),
        table("Activation items", ["Read set", "Status", "Message"],
          (job.sources || []).map((s) => [readSetLink(storeId, s.readSetId), statusBadge(s.status),
            s.statusMessage || "—"]))];
    }
    return [summary(job, [["Destination", copyable(job.destination, "destination")]]),
      h("h2", {}, "Items"),
      table("Export items", ["Read set", "Status", "Message"],
        (job.readSets || []).map((s) => [readSetLink(storeId, s.id), statusBadge(s.status),
          s.statusMessage || "—"]))];
  });
}

export async function referenceJobPage(ctx, storeId, jobId) {
  const body = h("div", { id: "job" });
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/reference-stores" }, "Reference stores"), " / ",
      h("a", { href: `#/reference-stores/${storeId}` }, storeId), " / ", jobId),
    heading(`Reference import job ${jobId}`), body);
  await pollJob(ctx, body,
    () => call(ctx.credentials, "GET", p`/referencestore/${storeId}/importjob/${jobId}`),
    (job) => [summary(job, [["Role ARN", job.roleArn]]), h("h2", {}, "Items"),
      table("Reference import items", ["Source", "Name", "Status", "Message", "Reference"],
        (job.sources || []).map((s) => [copyable(s.sourceFile, "source URI"), s.name || "—",
          statusBadge(s.status), s.statusMessage || "—",
          s.referenceId ? h("code", {}, s.referenceId) : "—"]))]);
}
