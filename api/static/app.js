// The chat page and the department page: plain JavaScript, no CDN, works offline.
"use strict";

const KEY = "review-assistant-key";
const history = [];
const citationsByMessage = new Map();

async function api(path, options = {}, retried = false) {
  const headers = Object.assign({}, options.headers || {});
  const key = localStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401 && !retried) {
    const entered = window.prompt("需要 API 密钥 (API key):");
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

// Text with [n] markers -> text nodes and citation links (never innerHTML for answer text).
function withCitations(container, text, citations) {
  const ids = new Set(citations.map((c) => c.id));
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    container.appendChild(document.createTextNode(text.slice(last, m.index)));
    const id = Number(m[1]);
    if (ids.has(id)) {
      const link = el("a", { href: "#cite-" + id, class: "cite", "data-cite": String(id) }, "[" + id + "]");
      link.addEventListener("click", (event) => {
        event.preventDefault();
        openCitation(citations.find((c) => c.id === id));
      });
      container.appendChild(link);
    } else {
      container.appendChild(document.createTextNode(m[0]));
    }
    last = m.index + m[0].length;
  }
  container.appendChild(document.createTextNode(text.slice(last)));
}

function renderAnswer(bubble, content, citations, mode) {
  const split = content.indexOf("\n\n来源 Sources:\n");
  const answer = split >= 0 ? content.slice(0, split) : content;
  bubble.textContent = "";
  const body = el("div", { class: "answer" });
  withCitations(body, answer, citations);
  bubble.appendChild(body);
  if (citations.length) {
    const list = el("div", { class: "sources" });
    list.appendChild(el("div", {}, "来源 Sources:"));
    for (const c of citations) {
      const line = el("div");
      withCitations(line, "[" + c.id + "] " + c.source + ":" + c.line + " " + c.department + " · " + c.field, citations);
      list.appendChild(line);
    }
    bubble.appendChild(list);
  }
  if (mode) bubble.appendChild(el("div", { class: "mode" }, "mode: " + mode));
}

async function openCitation(c) {
  const panel = document.getElementById("panel");
  const body = document.getElementById("panel-body");
  panel.hidden = false;
  body.textContent = "加载中…";
  const response = await api("/api/sources/" + encodeURIComponent(c.source) + "/lines/" + c.line);
  body.textContent = "";
  if (!response.ok) {
    body.appendChild(el("p", {}, "无法读取该行 (" + response.status + ")"));
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
  body.appendChild(el("p", { class: "where" }, row.source + ":" + row.line));
}

async function ask(question) {
  const messages = document.getElementById("messages");
  messages.appendChild(el("div", { class: "msg user" }, question));
  const bubble = el("div", { class: "msg assistant", "data-state": "streaming" });
  messages.appendChild(bubble);
  history.push({ role: "user", content: question });
  const send = document.getElementById("send");
  send.disabled = true;
  let content = "", citations = [], mode = "";
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "review-assistant", stream: true, messages: history.slice(-20) }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      bubble.textContent = "出错了: " + (problem.detail || response.status);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.replace(/^data: /, "");
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        const delta = chunk.choices[0].delta || {};
        if (delta.content) {
          content += delta.content;
          bubble.textContent = content;
        }
        if (chunk.citations) citations = chunk.citations;
        if (chunk.answer) mode = chunk.answer.mode;
      }
    }
    renderAnswer(bubble, content, citations, mode);
    history.push({ role: "assistant", content });
  } finally {
    bubble.setAttribute("data-state", "done");
    send.disabled = false;
  }
}

async function departmentsMenu() {
  const select = document.getElementById("dept-nav");
  if (!select) return;
  const response = await api("/api/departments");
  if (!response.ok) return;
  const seen = new Set();
  for (const d of await response.json()) {
    if (seen.has(d.department)) continue;
    seen.add(d.department);
    select.appendChild(el("option", { value: d.department }, d.department));
  }
  select.addEventListener("change", () => {
    if (select.value) location.href = "/departments/" + encodeURIComponent(select.value);
  });
}

function chart(data, mine) {
  const rows = data.departments.slice().sort((a, b) => b.score - a.score);
  const width = 640, barHeight = 22, left = 150, top = 30;
  const height = top + rows.length * (barHeight + 6) + 10;
  const max = Math.max(...rows.map((r) => r.score)), min = Math.min(...rows.map((r) => r.score));
  const floor = Math.floor(min - 5);
  const scale = (v) => ((v - floor) / (max - floor)) * (width - left - 70);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", data.year + "年" + data.category + "最终得分");
  const title = document.createElementNS(ns, "text");
  title.setAttribute("x", 8); title.setAttribute("y", 18);
  title.textContent = data.year + "年 " + data.category + " 最终得分(数据中的部门)";
  svg.appendChild(title);
  rows.forEach((r, i) => {
    const y = top + i * (barHeight + 6);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 8); label.setAttribute("y", y + 15);
    label.textContent = r.department;
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", left); bar.setAttribute("y", y);
    bar.setAttribute("width", Math.max(2, scale(r.score))); bar.setAttribute("height", barHeight);
    bar.setAttribute("class", "bar" + (r.department === mine ? " mine" : ""));
    const value = document.createElementNS(ns, "text");
    value.setAttribute("x", left + Math.max(2, scale(r.score)) + 6); value.setAttribute("y", y + 15);
    value.textContent = r.score_text + (r.rank ? "(第" + r.rank + "名)" : "");
    svg.append(label, bar, value);
  });
  return svg;
}

async function departmentPage() {
  const summary = document.getElementById("summary");
  if (!summary) return;
  const name = decodeURIComponent(location.pathname.split("/")[2] || "");
  const response = await api("/api/departments/" + encodeURIComponent(name));
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    summary.textContent = (problem.detail || "未找到") + (problem.suggestions ? ";最接近的部门:" + problem.suggestions.join("、") : "");
    return;
  }
  const data = await response.json();
  document.title = data.department + " · Review assistant";
  summary.innerHTML = data.html; // rendered by the server with autoescaping
  for (const link of summary.querySelectorAll("a.cite")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openCitation(data.citations.find((c) => c.id === Number(link.dataset.cite)));
    });
  }
  if (data.chart) document.getElementById("chart").appendChild(chart(data.chart, data.department));
}

document.addEventListener("DOMContentLoaded", () => {
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
  }
  document.getElementById("close-panel").addEventListener("click", () => { document.getElementById("panel").hidden = true; });
  departmentsMenu();
  departmentPage();
});
