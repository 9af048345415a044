// DOM helpers. Everything shown is built with createElement and text nodes, never from
// HTML strings, so names and messages from the server cannot inject markup.

/** h("a", {href: "#/"}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A page heading that takes focus after navigation, so keyboard and screen reader users
 *  land on the new content. */
export function heading(text) {
  return h("h1", { tabindex: "-1", id: "page-heading" }, text);
}

/** An error as the server put it: its type and its message. */
export function errorBox(error) {
  const type = error.type || error.name || "Error";
  return h("div", { class: "error", role: "alert" },
    h("strong", { class: "error-type" }, type), ": ",
    h("span", { class: "error-message" }, error.message));
}

/** Runs `work` and shows its error (if any) in `slot`, replacing what was there. */
export async function guarded(slot, work) {
  slot.replaceChildren();
  try {
    return await work();
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return undefined;
  }
}

export function table(caption, headers, rows, empty = "None.") {
  if (rows.length === 0) {
    return h("p", { class: "empty" }, empty);
  }
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

/** A definition list of [label, value, id?]; empty values show as an em dash. */
export function fields(pairs) {
  return h("dl", { class: "fields" }, pairs.flatMap(([label, value, id]) => [
    h("dt", {}, label),
    h("dd", { id }, value === undefined || value === null || value === "" ? "—" : value),
  ]));
}

export function statusBadge(status) {
  return h("span", { class: `status status-${String(status || "").toLowerCase()}` }, status || "—");
}

export function copyButton(text, what) {
  const button = h("button", { type: "button", class: "small", "aria-label": `Copy ${what}` }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return button;
}

/** A value with a Copy button after it. */
export function copyable(text, what) {
  if (!text) return "—";
  return h("span", { class: "copyable" }, h("code", {}, text), " ", copyButton(text, what));
}

export function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

export function formatBytes(n) {
  if (n === undefined || n === null) return "—";
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(1);
  return `${shown} ${units[unit]}` + (unit === 0 ? "" : ` (${n.toLocaleString()} bytes)`);
}

/** A labelled input; `attrs` go to the input. */
export function field(label, attrs) {
  const id = attrs.id || `f-${attrs.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { ...attrs, id }));
}

export function select(label, name, options, attrs = {}) {
  const id = attrs.id || `f-${name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { ...attrs, name, id }, options.map((o) => {
      const [value, text] = Array.isArray(o) ? o : [o, o];
      return h("option", { value }, text);
    })));
}

/** A <progress> with its ARIA state kept in step, and a text beside it. */
export function progressBar(id, label) {
  const bar = h("progress", { id, max: "1", value: "0", role: "progressbar",
    "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": "0", "aria-label": label });
  const text = h("span", { class: "progress-text", "aria-hidden": "true" }, "0 %");
  const wrap = h("div", { class: "progress" }, bar, text);
  wrap.update = (done, total) => {
    bar.max = total;
    bar.value = done;
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    const percent = total > 0 ? Math.floor((done * 100) / total) : 100;
    bar.setAttribute("aria-valuetext", `${percent} %`);
    text.textContent = `${percent} % (${done.toLocaleString()} of ${total.toLocaleString()} bytes)`;
  };
  return wrap;
}

/** Previous / Next buttons over nextToken paging. `pager.tokens` is the stack of tokens of
 *  the pages before the current one. */
export function pager(state, nextToken, reload) {
  const previous = h("button", { type: "button", disabled: state.tokens.length === 0 }, "Previous page");
  const next = h("button", { type: "button", disabled: !nextToken }, "Next page");
  previous.addEventListener("click", () => {
    state.token = state.tokens.pop();
    reload();
  });
  next.addEventListener("click", () => {
    state.tokens.push(state.token);
    state.token = nextToken;
    reload();
  });
  return h("div", { class: "pager" }, previous, next);
}

/** The maxResults and nextToken query pairs of a paged list. */
export function pageQuery(state) {
  const query = [["maxResults", state.maxResults || 20]];
  if (state.token) query.push(["nextToken", state.token]);
  return query;
}
