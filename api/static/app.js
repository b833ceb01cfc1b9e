// The chat page and the department page: plain JavaScript, no CDN, works offline.
"use strict";

const KEY = "review-assistant-key";
const TIMEOUT_MS = window.REVIEW_ASSISTANT_TIMEOUT_MS || 90000; // a test may shorten it
const history = []; // only exchanges that succeeded: a failed question is never sent as context

async function api(path, options = {}, retried = false) {
  const headers = Object.assign({}, options.headers || {});
  const key = localStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401 && !retried) {
    const entered = window.prompt("需要 API 密钥:");
    if (entered) {
      localStorage.setItem(KEY, entered.trim());
      return api(path, options, true);
    }
  }
  return response;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// The message of an error body in either shape: OpenAI's {"error": {"message"}} or this API's {"detail"}.
async function problemOf(response) {
  const body = await response.json().catch(() => ({}));
  return (body.error && body.error.message) || body.detail || "";
}

function citeLabel(c) {
  return (c.title || c.source) + " 第" + c.line + "行";
}

// Text with [n] markers -> text nodes and citation links (never innerHTML for answer text).
function withCitations(container, text, citations) {
  const ids = new Set(citations.map((c) => c.id));
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    container.appendChild(document.createTextNode(text.slice(last, m.index)));
    const id = Number(m[1]);
    if (ids.has(id)) container.appendChild(citeLink(citations.find((c) => c.id === id)));
    else container.appendChild(document.createTextNode(m[0]));
    last = m.index + m[0].length;
  }
  container.appendChild(document.createTextNode(text.slice(last)));
}

function citeLink(c) {
  const link = el("a", { href: "#cite-" + c.id, class: "cite", "data-cite": String(c.id), title: c.source + ":" + c.line },
                  "[" + c.id + "]");
  link.addEventListener("click", (event) => { event.preventDefault(); openCitation(c); });
  return link;
}

// ---- tables and bar charts -------------------------------------------------------------------------

// Horizontal bars from zero, one row per item, as HTML so that the text stays readable at any width.
function barChart(title, rows, mine) {
  const box = el("figure", { class: "bars", role: "img", "aria-label": title });
  box.appendChild(el("figcaption", {}, title));
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  for (const r of rows) {
    const row = el("div", { class: "bar-row" + (r.label === mine ? " mine" : "") });
    row.appendChild(el("span", { class: "bar-label" }, r.label));
    const track = el("span", { class: "bar-track" });
    const bar = el("span", { class: "bar" });
    bar.style.width = Math.max(0.5, (r.value / max) * 100).toFixed(2) + "%";
    track.appendChild(bar);
    row.appendChild(track);
    row.appendChild(el("span", { class: "bar-value" }, r.text));
    box.appendChild(row);
  }
  box.appendChild(el("div", { class: "bar-axis" }, "0 — " + max));
  return box;
}

function tableCsv(table) {
  const quote = (s) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
  const lines = [table.columns.map((c) => quote(c.label)).join(",")];
  for (const row of table.rows) lines.push(row.map((cell) => quote(cell.text)).join(","));
  return "\ufeff" + lines.join("\r\n") + "\r\n"; // a BOM so that Excel reads the Chinese text as UTF-8
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function renderTable(table, citations) {
  const box = el("div", { class: "answer-table" });
  const scroll = el("div", { class: "table-scroll" });
  const t = el("table");
  if (table.title) t.appendChild(el("caption", {}, table.title));
  const head = el("tr");
  // a column's class: "num" for numbers (right-aligned, never broken) and "col-<key>" (col-year …)
  const cls = (c) => ({ class: (c && c.numeric ? "num " : "") + "col-" + (c ? c.key : "x") });
  for (const c of table.columns) head.appendChild(el("th", cls(c), c.label));
  t.appendChild(el("thead")).appendChild(head);
  const body = t.appendChild(el("tbody"));
  for (const row of table.rows) {
    const tr = el("tr");
    row.forEach((cell, i) => {
      const td = el("td", cls(table.columns[i]), cell.text);
      const c = cell.cite && citations.find((x) => x.id === cell.cite);
      if (c) td.appendChild(citeLink(c));
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  scroll.appendChild(t);
  box.appendChild(scroll);
  if (table.ranked_by) {
    const at = table.columns.findIndex((c) => c.key === table.ranked_by);
    const labelAt = table.columns.findIndex((c) => !c.numeric);
    if (at >= 0) {
      const rows = table.rows.filter((r) => r[at] && typeof r[at].value === "number")
        .map((r) => ({ label: labelAt >= 0 ? r[labelAt].text : "", value: r[at].value, text: r[at].text }));
      if (rows.length) box.appendChild(barChart(table.title || table.columns[at].label, rows));
    }
  }
  const tools = el("div", { class: "table-tools" });
  const name = (table.title || "table").replace(/[\\/:*?"<>|]/g, "_");
  const csv = el("button", { type: "button", class: "download-csv" }, "下载 CSV");
  csv.addEventListener("click", () => download(new Blob([tableCsv(table)], { type: "text/csv" }), name + ".csv"));
  const xlsx = el("button", { type: "button", class: "download-xlsx" }, "下载 Excel");
  xlsx.addEventListener("click", async () => {
    const response = await api("/api/tables/xlsx", { method: "POST", headers: { "Content-Type": "application/json" },
                                                     body: JSON.stringify(table) }).catch(() => null);
    if (response && response.ok) download(await response.blob(), name + ".xlsx");
    else xlsx.textContent = "下载失败,请重试";
  });
  tools.append(csv, xlsx);
  box.appendChild(tools);
  return box;
}

function renderAnswer(bubble, content, citations, table) {
  const split = content.indexOf("\n\n来源 Sources:\n");
  let answer = split >= 0 ? content.slice(0, split) : content;
  if (table) { // the markdown table is for other clients; the page draws the table itself
    const at = answer.indexOf("\n\n" + (table.title ? "**" : "| "));
    if (at >= 0) answer = answer.slice(0, at);
  }
  bubble.textContent = "";
  const body = el("div", { class: "answer" });
  withCitations(body, answer, citations);
  bubble.appendChild(body);
  if (table && table.rows && table.rows.length) bubble.appendChild(renderTable(table, citations));
  if (citations.length) {
    const list = el("div", { class: "sources" });
    list.appendChild(el("div", {}, "来源:"));
    for (const c of citations) {
      const line = el("div", { class: "source" });
      line.appendChild(citeLink(c));
      line.appendChild(el("span", { class: "doc", title: c.source + ":" + c.line }, " " + citeLabel(c)));
      line.appendChild(document.createTextNode(" · " + c.department + " · " + c.field));
      list.appendChild(line);
    }
    bubble.appendChild(list);
  }
}

async function openCitation(c) {
  const panel = document.getElementById("panel");
  const body = document.getElementById("panel-body");
  panel.hidden = false;
  body.textContent = "加载中…";
  let response;
  try {
    // the line as the version the answer used publishes it, not as the file stands now
    const version = c.version ? "?version=" + encodeURIComponent(c.version) : "";
    response = await api("/api/sources/" + encodeURIComponent(c.source) + "/lines/" + c.line + version);
  } catch (error) {
    body.textContent = "";
    body.appendChild(el("p", { class: "error" }, "无法连接服务器,未能读取原文。"));
    return;
  }
  body.textContent = "";
  if (!response.ok) {
    body.appendChild(el("p", { class: "error" }, "无法读取该行(" + response.status + ")。"));
    return;
  }
  const row = await response.json();
  const record = row.record || {};
  body.appendChild(el("h2", {}, c.department));
  if (record.item) body.appendChild(el("p", {}, "第" + record.item + "项 · " + (record.title || "")));
  body.appendChild(el("p", { class: "field" }, c.field + (c.year ? " · " + c.year + "年" : "")));
  const text = el("p", { class: "rowtext" });
  const source = c.span && record.text ? record.text : (row.raw || record.text || "");
  let start = -1, end = -1;
  if (c.span && record.text) { [start, end] = c.span; }
  else if (c.quote) { start = source.indexOf(c.quote); end = start + c.quote.length; }
  if (start >= 0) {
    text.appendChild(document.createTextNode(source.slice(0, start)));
    text.appendChild(el("mark", {}, source.slice(start, end)));
    text.appendChild(document.createTextNode(source.slice(end)));
  } else {
    text.textContent = source;
  }
  body.appendChild(text);
  body.appendChild(el("p", { class: "where", title: row.source + ":" + row.line },
                      (row.title || row.source) + " 第" + row.line + "行"));
}

function scrollToAnswer(bubble) {
  const tall = bubble.getBoundingClientRect().height > window.innerHeight * 0.7;
  bubble.scrollIntoView({ block: tall ? "start" : "end", behavior: "auto" });
}

function showError(bubble, message, question) {
  bubble.textContent = "";
  bubble.classList.add("failed");
  bubble.appendChild(el("p", { class: "error" }, message));
  const retry = el("button", { type: "button", class: "retry" }, "重试");
  retry.addEventListener("click", () => ask(question, bubble));
  bubble.appendChild(retry);
  bubble.setAttribute("data-state", "error");
  scrollToAnswer(bubble);
}

async function ask(question, retryBubble = null) {
  const messages = document.getElementById("messages");
  let bubble = retryBubble;
  if (bubble) {
    bubble.classList.remove("failed");
    bubble.textContent = "";
  } else {
    messages.appendChild(el("div", { class: "msg user" }, question));
    bubble = el("div", { class: "msg assistant" });
    messages.appendChild(bubble);
  }
  bubble.setAttribute("data-state", "streaming");
  bubble.appendChild(el("span", { class: "thinking" }, "正在查询…"));
  scrollToAnswer(bubble);
  const send = document.getElementById("send");
  send.disabled = true;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let content = "", citations = [], table = null;
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      signal: controller.signal,
      body: JSON.stringify({ model: "review-assistant", stream: true,
                             messages: history.slice(-20).concat([{ role: "user", content: question }]) }),
    });
    if (!response.ok) {
      const detail = await problemOf(response);
      let message;
      if (response.status >= 500) { // the server's own text is for the log; the user gets the incident number
        const incident = /incident ([0-9a-f]+)/.exec(detail);
        message = "服务器出错(" + response.status + ")。" + (incident ? "事件编号 " + incident[1] + "。" : "");
      } else if (response.status === 401) {
        message = "请求有误(401):需要有效的 API 密钥。";
      } else {
        message = "请求有误(" + response.status + ")" + (detail ? ":" + detail : "。");
      }
      showError(bubble, message, question);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", finished = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.replace(/^data: /, "");
        if (data === "[DONE]") { finished = true; continue; }
        const chunk = JSON.parse(data);
        const delta = (chunk.choices && chunk.choices[0] && chunk.choices[0].delta) || {};
        if (delta.content) {
          content += delta.content;
          bubble.textContent = content;
        }
        if (chunk.citations) citations = chunk.citations;
        if (chunk.answer) {
          table = chunk.answer.table || null;
          for (const c of citations) c.version = chunk.answer.data_version;
        }
      }
    }
    if (!finished) throw new TypeError("stream ended early");
    renderAnswer(bubble, content, citations, table);
    bubble.setAttribute("data-state", "done");
    history.push({ role: "user", content: question }, { role: "assistant", content });
    scrollToAnswer(bubble);
  } catch (error) {
    const message = error.name === "AbortError" ? "请求超时,服务器没有在 " + TIMEOUT_MS / 1000 + " 秒内回答。"
                                                 : "网络错误:无法连接服务器。";
    showError(bubble, message, question);
  } finally {
    clearTimeout(timer);
    send.disabled = false;
  }
}

function clearChat() {
  history.length = 0;
  for (const node of document.querySelectorAll("#messages .msg")) node.remove();
  document.getElementById("panel").hidden = true;
  document.getElementById("question").focus();
}

async function allDepartments() {
  const response = await api("/api/departments").catch(() => null);
  return response && response.ok ? response.json() : [];
}

async function departmentsMenu(rows, current) {
  const select = document.getElementById("dept-nav");
  if (!select) return;
  const seen = new Set();
  for (const d of rows) {
    if (seen.has(d.department)) continue;
    seen.add(d.department);
    select.appendChild(el("option", { value: d.department }, d.department));
  }
  if (current && seen.has(current)) select.value = current;
  select.addEventListener("change", () => {
    if (select.value) location.href = "/departments/" + encodeURIComponent(select.value);
  });
}

// The department's category's scores, or, for a department with only targets, the year's coefficients.
function departmentChart(data, rows) {
  const mine = data.department;
  if (data.chart && data.chart.departments.length) {
    const items = data.chart.departments.slice().sort((a, b) => b.score - a.score)
      .map((r) => ({ label: r.department, value: r.score, text: r.score_text + (r.rank ? "(第" + r.rank + "名)" : "") }));
    return barChart(data.chart.year + "年 " + data.chart.category + " 最终得分(数据中的部门,轴从0开始)", items, mine);
  }
  const own = rows.find((r) => r.department === mine && r.coefficient !== null);
  if (!own) return null;
  const items = rows.filter((r) => r.year === own.year && r.coefficient !== null)
    .sort((a, b) => b.coefficient - a.coefficient)
    .map((r) => ({ label: r.department, value: r.coefficient, text: r.coefficient_text }));
  return barChart(own.year + "年 评定难度系数(轴从0开始)", items, mine);
}

function closest(name, rows) {
  const chars = new Set(name.replace(/^市/, ""));
  const scored = [...new Set(rows.map((r) => r.department))]
    .map((d) => [d, [...d].filter((ch) => chars.has(ch)).length])
    .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return scored.slice(0, 5).map(([d]) => d);
}

async function departmentPage() {
  const summary = document.getElementById("summary");
  const name = decodeURIComponent(location.pathname.split("/")[2] || "");
  const rows = await allDepartments();
  if (!summary) { departmentsMenu(rows, null); return; }
  let response;
  try {
    response = await api("/api/departments/" + encodeURIComponent(name));
  } catch (error) {
    summary.textContent = "网络错误:无法连接服务器。";
    return;
  }
  if (!response.ok) {
    departmentsMenu(rows, null);
    document.querySelector(".crumb").hidden = true;
    const body = await response.json().catch(() => ({}));
    summary.textContent = "";
    summary.appendChild(el("p", { class: "error" }, "数据中没有“" + name + "”这个部门。"));
    const suggestions = (body.suggestions && body.suggestions.length) ? body.suggestions : closest(name, rows);
    const list = el("p", { class: "suggestions" }, suggestions.length ? "您要找的是不是:" : "可以查看的部门:");
    for (const s of (suggestions.length ? suggestions : [...new Set(rows.map((r) => r.department))])) {
      list.appendChild(el("a", { href: "/departments/" + encodeURIComponent(s) }, s));
      list.appendChild(document.createTextNode(" "));
    }
    summary.appendChild(list);
    return;
  }
  const data = await response.json();
  departmentsMenu(rows, data.department);
  document.title = data.department + " · 绩效考核问答";
  const heading = document.getElementById("current");
  if (heading) heading.textContent = data.department;
  const reports = document.getElementById("reports");
  if (reports) {
    const base = "/api/reports/departments/" + encodeURIComponent(data.department);
    reports.appendChild(el("a", { href: base + ".html", target: "_blank" }, "打印版报告"));
    reports.appendChild(document.createTextNode(" · "));
    reports.appendChild(el("a", { href: base + ".pdf" }, "下载 PDF"));
    if (data.chart && data.chart.category) {
      const category = "/api/reports/categories/" + encodeURIComponent(data.chart.category);
      reports.appendChild(document.createTextNode(" · "));
      reports.appendChild(el("a", { href: category + ".pdf", class: "category-report" }, data.chart.category + "报告 PDF"));
    }
  }
  summary.innerHTML = data.html; // rendered by the server with autoescaping
  for (const link of summary.querySelectorAll("a.cite")) {
    const c = data.citations.find((x) => x.id === Number(link.dataset.cite));
    if (c) link.title = c.source + ":" + c.line;
    link.addEventListener("click", (event) => { event.preventDefault(); openCitation(c); });
  }
  for (const item of summary.querySelectorAll("ol.sources li")) { // titles, with the file name on hover
    const c = data.citations.find((x) => "cite-" + x.id === item.id);
    if (!c) continue;
    item.textContent = citeLabel(c) + " · " + c.department + " · " + c.field;
    item.title = c.source + ":" + c.line;
  }
  const figure = departmentChart(data, rows);
  if (figure) document.getElementById("chart").appendChild(figure);
}

// ---- the upload panel: check (a dry run), read the report, publish -----------------------------------

function uploadData() {
  const data = new FormData();
  data.append("file", document.getElementById("upload-file").files[0]);
  for (const name of ["year", "kind", "title"]) {
    const value = document.getElementById("upload-" + name).value.trim();
    if (value) data.append(name, value);
  }
  return data;
}

function uploadReport(body, status) {
  const box = document.getElementById("upload-report");
  box.textContent = "";
  if (body.files && body.files.length) {
    const table = el("table");
    const head = el("tr");
    for (const label of ["文件", "年份", "类型", "读取行数", "记录", "部门", "拒绝"]) head.appendChild(el("th", {}, label));
    table.appendChild(head);
    for (const f of body.files) {
      const row = el("tr", { "data-file": f.file });
      for (const value of [f.file, f.year || "?", f.kind || "?", f.rows_read, f.records, f.departments, f.rejected]) {
        row.appendChild(el("td", {}, String(value)));
      }
      table.appendChild(row);
    }
    box.appendChild(table);
  }
  if (body.problems && body.problems.length) {
    box.appendChild(el("p", { class: "problems" }, body.problems.length + " 个问题,未发布:"));
    const list = el("ul", { class: "problems" });
    for (const p of body.problems) list.appendChild(el("li", {}, p.text));
    box.appendChild(list);
  } else if (status >= 400) {
    box.appendChild(el("p", { class: "problems" }, "请求有误(" + status + ")" + (body.detail ? ":" + body.detail : "。")));
  } else if (body.version) {
    box.appendChild(el("p", { class: "ok", id: "upload-done" }, "已发布 " + body.version.version + ",新的提问将使用这一版本。"));
  } else {
    box.appendChild(el("p", { class: "ok" }, "检查通过:每一行都已读成记录。可以发布。"));
  }
}

async function upload(dryRun) {
  const publish = document.getElementById("upload-publish");
  const check = document.getElementById("upload-check");
  publish.disabled = true;
  check.disabled = true;
  document.getElementById("upload-report").textContent = dryRun ? "正在检查…" : "正在发布…";
  try {
    const response = await api("/api/sources" + (dryRun ? "?dry_run=true" : ""), { method: "POST", body: uploadData() });
    const body = await response.json().catch(() => ({}));
    uploadReport(body, response.status);
    publish.disabled = !(dryRun && response.ok);
  } catch (error) {
    document.getElementById("upload-report").textContent = "网络错误:无法连接服务器。";
  } finally {
    check.disabled = false;
  }
}

function uploadPanel() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  form.addEventListener("submit", (event) => { event.preventDefault(); upload(true); });
  document.getElementById("upload-publish").addEventListener("click", () => upload(false));
  for (const input of form.querySelectorAll("input, select")) {
    input.addEventListener("change", () => { document.getElementById("upload-publish").disabled = true; });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  uploadPanel();
  const form = document.getElementById("ask");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const box = document.getElementById("question");
      const question = box.value.trim();
      if (question) { box.value = ""; ask(question); }
    });
    document.getElementById("question").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    for (const b of document.querySelectorAll(".example")) b.addEventListener("click", () => ask(b.textContent));
    document.getElementById("clear").addEventListener("click", clearChat);
  }
  document.getElementById("close-panel").addEventListener("click", () => { document.getElementById("panel").hidden = true; });
  departmentPage();
});
