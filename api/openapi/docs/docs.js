// Renders /openapi.json as a reference page: one section per tag, each
// operation with its parameters, request body, responses and examples, then
// the named schemas. Every node is built with DOM calls and text, so nothing
// in the document is ever parsed as HTML.

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];

let doc;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// resolve follows a local $ref ("#/components/…") to what it names.
function resolve(item) {
  if (!item?.$ref) return item;
  const path = item.$ref.replace(/^#\//, "").split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  return path.reduce((node, key) => node?.[key], doc);
}

function schemaName(ref) {
  const prefix = "#/components/schemas/";
  return ref.startsWith(prefix) ? ref.slice(prefix.length) : null;
}

// Markdown, as far as the document uses it: paragraphs, "- " lists, pipe
// tables, `code` and **bold**.
function markdown(text) {
  const out = el("div", { class: "md" });
  for (const block of (text ?? "").trim().split(/\n\s*\n/)) {
    const lines = block.split("\n").map((l) => l.trim());
    if (lines.every((l) => l.startsWith("|"))) {
      out.append(table(lines));
    } else if (lines[0].startsWith("- ")) {
      const items = [];
      for (const line of lines) {
        if (line.startsWith("- ")) items.push(line.slice(2));
        else items[items.length - 1] += " " + line;
      }
      out.append(el("ul", {}, items.map((i) => el("li", {}, inline(i)))));
    } else if (block.trim()) {
      out.append(el("p", {}, inline(lines.join(" "))));
    }
  }
  return out;
}

function table(lines) {
  const cells = (line) => line.replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
  const rows = lines.filter((l) => !/^\|[\s|:-]+\|$/.test(l)).map(cells);
  const [head, ...body] = rows;
  return el("table", {},
    el("thead", {}, el("tr", {}, head.map((c) => el("th", {}, inline(c))))),
    el("tbody", {}, body.map((r) => el("tr", {}, r.map((c) => el("td", {}, inline(c)))))));
}

function inline(text) {
  return text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).filter(Boolean).map((part) => {
    if (part.startsWith("`")) return el("code", {}, part.slice(1, -1));
    if (part.startsWith("**")) return el("strong", {}, part.slice(2, -2));
    return part;
  });
}

function json(value) {
  return el("pre", { class: "example" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

// constraints lists a schema's type and the keywords that narrow it.
function constraints(s) {
  const parts = [];
  const types = [].concat(s.type ?? []);
  if (types.length) parts.push(types.join(" | ") + (s.format ? ` (${s.format})` : ""));
  if ("const" in s) parts.push(`= ${JSON.stringify(s.const)}`);
  if (s.enum) parts.push("one of " + s.enum.map((v) => JSON.stringify(v)).join(", "));
  for (const [key, label] of [["minimum", "≥"], ["maximum", "≤"], ["minLength", "length ≥"], ["maxLength", "length ≤"], ["minItems", "items ≥"], ["maxItems", "items ≤"]]) {
    if (key in s) parts.push(`${label} ${s[key]}`);
  }
  if (s.pattern) parts.push(`matches ${s.pattern}`);
  if ("default" in s) parts.push(`default ${JSON.stringify(s.default)}`);
  if (s.additionalProperties === false || s.unevaluatedProperties === false) parts.push("no other fields");
  return parts.join(" · ");
}

function schemaNode(s) {
  if (!s) return el("span", { class: "muted" }, "any");
  if (s.$ref) {
    const name = schemaName(s.$ref);
    return name ? el("a", { href: `#schema-${name}`, class: "ref" }, name) : schemaNode(resolve(s));
  }
  const node = el("div", { class: "schema" });
  const line = constraints(s);
  if (line) node.append(el("div", { class: "type" }, line));
  if (s.description) node.append(markdown(s.description));
  for (const key of ["allOf", "oneOf", "anyOf"]) {
    if (s[key]) {
      const label = { allOf: "all of", oneOf: "one of", anyOf: "any of" }[key];
      node.append(el("div", { class: "combo" }, el("span", { class: "muted" }, label), el("ul", {}, s[key].map((v) => el("li", {}, schemaNode(v))))));
    }
  }
  if (s.properties) node.append(properties(s));
  if (s.items) node.append(el("div", { class: "combo" }, el("span", { class: "muted" }, "items"), schemaNode(s.items)));
  if (s.additionalProperties && typeof s.additionalProperties === "object") {
    node.append(el("div", { class: "combo" }, el("span", { class: "muted" }, "values"), schemaNode(s.additionalProperties)));
  }
  if (s.examples) node.append(...s.examples.map(json));
  return node;
}

function properties(s) {
  const required = new Set(s.required ?? []);
  return el("table", { class: "props" }, el("tbody", {}, Object.entries(s.properties).map(([name, prop]) =>
    el("tr", {},
      el("td", {}, el("code", {}, name), required.has(name) ? el("span", { class: "required", title: "required" }, " *") : null),
      el("td", {}, schemaNode(prop))))));
}

function examples(media) {
  const out = [];
  if ("example" in media) out.push(json(media.example));
  for (const [name, ex] of Object.entries(media.examples ?? {})) {
    const example = resolve(ex);
    out.push(el("details", {}, el("summary", {}, "Example: " + (example.summary ?? name)), json(example.value)));
  }
  return out;
}

function content(body) {
  return Object.entries(body.content ?? {}).map(([type, media]) =>
    el("div", { class: "media" }, el("div", { class: "muted" }, type), schemaNode(media.schema), examples(media)));
}

function parameters(list) {
  if (!list.length) return null;
  return el("section", {}, el("h4", {}, "Parameters"), el("table", { class: "props" }, el("tbody", {}, list.map((ref) => {
    const p = resolve(ref);
    return el("tr", {},
      el("td", {}, el("code", {}, p.name), p.required ? el("span", { class: "required", title: "required" }, " *") : null,
        el("div", { class: "muted" }, p.in)),
      el("td", {}, schemaNode(p.schema), p.description ? markdown(p.description) : null,
        "example" in p ? el("div", { class: "muted" }, "e.g. ", el("code", {}, String(p.example))) : null));
  }))));
}

function responses(all) {
  return el("section", {}, el("h4", {}, "Responses"), Object.entries(all).map(([status, ref]) => {
    const r = resolve(ref);
    const headers = Object.entries(r.headers ?? {}).map(([name, h]) =>
      el("div", { class: "muted" }, "Header ", el("code", {}, name), ": ", resolve(h).description ?? ""));
    return el("div", { class: `response s${status[0]}` },
      el("div", { class: "status" }, el("strong", {}, status), " ", inline(r.description ?? "")),
      headers, content(r));
  }));
}

function operationNode(path, method, op, pathItem) {
  const auth = (op.security ?? doc.security ?? []).length ? "API key" : "none";
  const body = resolve(op.requestBody);
  return el("article", { class: "op", id: `op-${op.operationId}` },
    el("h3", {}, el("span", { class: `method ${method}` }, method.toUpperCase()), " ", el("code", {}, path)),
    el("p", { class: "summary" }, op.summary ?? "", el("span", { class: "muted" }, ` · auth: ${auth}`)),
    op.description ? markdown(op.description) : null,
    parameters([...(pathItem.parameters ?? []), ...(op.parameters ?? [])]),
    body ? el("section", {}, el("h4", {}, "Request body" + (body.required ? "" : " (optional)")),
      body.description ? markdown(body.description) : null, content(body)) : null,
    responses(op.responses ?? {}));
}

function render() {
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  main.replaceChildren(el("header", {},
    el("h1", {}, `${doc.info.title} `, el("span", { class: "muted" }, doc.info.version)),
    el("p", {}, el("a", { href: "../openapi.json" }, "openapi.json"), ` · OpenAPI ${doc.openapi}`),
    markdown(doc.info.description)));

  const byTag = new Map((doc.tags ?? []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS.filter((m) => item[m])) {
      const tag = item[method].tags?.[0] ?? "Other";
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push({ path, method, op: item[method], item });
    }
  }
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    const id = "tag-" + tag.name.replace(/\W+/g, "-");
    nav.append(el("h2", {}, el("a", { href: `#${id}` }, tag.name)),
      el("ul", {}, ops.map(({ path, method, op }) => el("li", {},
        el("a", { href: `#op-${op.operationId}`, title: `${method.toUpperCase()} ${path}` },
          el("span", { class: `method ${method}` }, method.toUpperCase()), " ", op.summary ?? path)))));
    main.append(el("section", { id }, el("h2", {}, tag.name), tag.description ? markdown(tag.description) : null,
      ops.map(({ path, method, op, item }) => operationNode(path, method, op, item))));
  }

  const schemas = Object.entries(doc.components?.schemas ?? {});
  nav.append(el("h2", {}, el("a", { href: "#schemas" }, "Schemas")),
    el("ul", {}, schemas.map(([name]) => el("li", {}, el("a", { href: `#schema-${name}` }, name)))));
  main.append(el("section", { id: "schemas" }, el("h2", {}, "Schemas"),
    schemas.map(([name, s]) => el("article", { class: "op", id: `schema-${name}` }, el("h3", {}, name), schemaNode(s)))));

  // The page was empty when the browser looked for the URL's fragment.
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

try {
  const resp = await fetch("../openapi.json");
  if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
  doc = await resp.json();
  render();
} catch (err) {
  document.getElementById("status").textContent = `Could not load the API document: ${err.message}`;
}
