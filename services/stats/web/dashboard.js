// The live dashboard: reads the stats API for the chosen period and unit, draws it, and reads it
// again whenever /stats/live says the figures changed. No libraries: the chart is SVG drawn here.
"use strict";

const ZONE = "Asia/Ho_Chi_Minh";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const integer = new Intl.NumberFormat("vi-VN");
const decimal = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 2 });

const state = { range: "year", from: "", to: "", unit: "", field: "", sort: { key: "rank", up: true }, filter: "" };
let shown = {}; // the last answers drawn, to draw again (resize, sort, filter) without asking

// --- formatting ---------------------------------------------------------------------------------

const count = (n) => (n == null ? "–" : integer.format(n));
const pct = (n) => (n == null ? "–" : `${decimal.format(n)}%`);
const pts = (n) => decimal.format(n);

function local(date) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(date)) parts[part.type] = part.value;
  return parts;
}
const today = () => { const p = local(new Date()); return `${p.year}-${p.month}-${p.day}`; };
const dateTime = (iso) => { const p = local(new Date(iso)); return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`; };
const clock = (date) => { const p = local(date); return `${p.hour}:${p.minute}:${p.second}`; };
const dayText = (day) => day.split("-").reverse().join("/");

function shift(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function span(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (minutes >= 1440) return `${Math.floor(minutes / 1440)} ngày`;
  if (minutes >= 60) return `${Math.floor(minutes / 60)} giờ`;
  return `${minutes} phút`;
}

const RANGES = {
  today: (day) => [day, day],
  week: (day) => [shift(day, -6), day],
  month: (day) => [`${day.slice(0, 8)}01`, day],
  year: (day) => [`${day.slice(0, 5)}01-01`, day],
};

// --- building elements --------------------------------------------------------------------------

function build(make, tag, attrs, children) {
  const node = make(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name === "className" ? "class" : name, value === true ? "" : value);
  }
  node.append(...children.flat(Infinity).filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return node;
}
const h = (tag, attrs, ...children) => build((t) => document.createElement(t), tag, attrs, children);
const s = (tag, attrs, ...children) => build((t) => document.createElementNS(SVG, t), tag, attrs, children);

function bar(share, label) {
  const fill = h("span");
  fill.style.width = `${Math.max(0, Math.min(1, share || 0)) * 100}%`; // CSSOM: allowed by the page's policy
  return h("span", { className: "bar", role: "img", "aria-label": label }, fill);
}

function table(caption, heads, rows, empty) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map(([text, cls]) => h("th", { scope: "col", className: cls }, text)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: heads.length, className: "empty" }, empty))),
  );
}

// --- asking the API -----------------------------------------------------------------------------

async function get(path, params) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) if (value) url.searchParams.set(name, value);
  const answer = await fetch(url, { headers: { Accept: "application/json" } });
  if (!answer.ok) {
    const detail = await answer.json().then((body) => body.detail, () => null);
    throw new Error(typeof detail === "string" ? detail : `${path}: ${answer.status}`);
  }
  return answer.json();
}

function ask() {
  if (state.range) showPeriod(...RANGES[state.range](today())); // a quick range follows the calendar: a page open overnight moves on
  const period = { from: state.from, to: state.to };
  const scoped = { ...period, unit: state.unit };
  return Promise.all([
    get("/stats/figures", period),
    get("/stats/index", period),
    get("/stats/ranking", period),
    get("/stats/trend", scoped),
    get("/stats/breakdown", { ...scoped, by: "field" }),
    state.field ? get("/stats/breakdown", { ...scoped, by: "procedure", field: state.field }) : null,
    state.unit ? get("/stats/figures", scoped) : null,
    state.unit ? get("/stats/index", scoped) : null,
    get("/stats/dossiers", { unit: state.unit, state: "overdue", limit: 100 }),
    get("/stats/dossiers", { unit: state.unit, state: "due_soon", limit: 100 }),
  ]).then(([figures, index, ranking, trend, fields, procedures, unitFigures, unitIndex, overdue, dueSoon]) =>
    ({ figures, index, ranking, trend, fields, procedures, unitFigures, unitIndex, overdue, dueSoon }));
}

let running = false;
let again = false;

async function refresh() {
  if (running) { again = true; return; } // one reading at a time; the last change read after it
  running = true;
  try {
    shown = await ask();
    draw();
    $("updated").textContent = `Cập nhật lúc ${clock(new Date())}`;
    showError("");
  } catch (error) {
    showError(`Không tải được số liệu: ${error.message}`);
  } finally {
    running = false;
  }
  if (again) { again = false; await refresh(); }
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

// --- drawing ------------------------------------------------------------------------------------

function draw() {
  const { figures, index, ranking, trend, fields, procedures, unitFigures, unitIndex, overdue, dueSoon } = shown;
  $("overview-period").textContent = `${figures.scope.unit_name || "Toàn tỉnh"}, từ ${dayText(figures.period.from)} đến ${dayText(figures.period.to)}`;
  drawFigures($("figures"), figures);
  drawIndex($("index-body"), index, false);
  drawTrend(trend);
  drawRanking(ranking.communes);
  drawUnits(ranking.communes);
  drawDetail(unitFigures, unitIndex, fields, procedures);
  drawDossiers("overdue", overdue.dossiers, "Không có hồ sơ quá hạn.");
  drawDossiers("due-soon", dueSoon.dossiers, "Không có hồ sơ sắp đến hạn.");
  drawReports();
}

const FIGURES = [
  ["received", "Tiếp nhận", (f) => count(f.counters.received), (f) => `${count(f.counters.online)} hồ sơ trực tuyến`],
  ["carried_over", "Kỳ trước chuyển sang", (f) => count(f.carried_over), () => "chưa giải quyết đầu kỳ"],
  ["resolved", "Đã giải quyết", (f) => count(f.counters.resolved), (f) => `${count(f.counters.late)} quá hạn, ${count(f.counters.refused)} từ chối`],
  ["early_or_on_time", "Trước hạn và đúng hạn", (f) => pct(f.rates.early_or_on_time_rate), (f) => `${count(f.counters.early + f.counters.on_time)}/${count(f.counters.resolved)} hồ sơ đã giải quyết`],
  ["in_progress", "Đang giải quyết", (f) => count(f.in_progress), (f) => `${count(f.due_soon_now)} sắp đến hạn`],
  ["overdue_now", "Đang quá hạn", (f) => count(f.overdue_now), () => "chưa giải quyết, đã quá hạn"],
  ["online", "Nộp trực tuyến", (f) => pct(f.rates.online_rate), (f) => `${count(f.counters.online)}/${count(f.counters.received)} hồ sơ tiếp nhận`],
  ["digitised", "Hồ sơ được số hóa", (f) => pct(f.rates.dossiers_digitised_rate), (f) => `thành phần hồ sơ: ${pct(f.rates.components_digitised_rate)}`],
  ["paid_online", "Thanh toán trực tuyến", (f) => pct(f.rates.paid_online_rate), (f) => `${count(f.counters.paid_online)}/${count(f.counters.fee_bearing - f.counters.fee_exempt)} hồ sơ phải nộp phí`],
  ["satisfaction", "Hài lòng", (f) => pct(f.rates.satisfaction_rate), (f) => `${count(f.counters.rated)} lượt đánh giá${f.rates.average_rating == null ? "" : `, bình quân ${pts(f.rates.average_rating)}/5`}`],
];

function drawFigures(list, figures) {
  list.replaceChildren(...FIGURES.map(([id, label, value, note]) =>
    h("div", { className: id === "overdue_now" && figures.overdue_now > 0 ? "card alert" : "card", "data-figure": id },
      h("dt", {}, label),
      h("dd", { className: "value" }, value(figures)),
      h("dd", { className: "note" }, note(figures)))));
}

function drawIndex(box, index, open) {
  // a live update keeps the groups the reader opened or closed as they were
  const kept = box.querySelector("[data-group]") && new Set([...box.querySelectorAll("details[open]")].map((d) => d.parentElement.dataset.group));
  const rank = index.rank ? h("span", { className: "rank-pill" }, `Xếp hạng ${index.rank}/${index.of}`) : null;
  box.replaceChildren(
    h("p", { className: "index-score" }, h("strong", {}, pts(index.score)), h("span", {}, ` / ${index.max} điểm`), rank),
    h("ul", { className: "groups" }, index.groups.map((group) => h("li", { className: "group", "data-group": group.id },
      h("div", { className: "group-head" },
        h("span", {}, group.name),
        h("span", { className: "points" }, `${pts(group.score)}/${pts(group.weight)} điểm`)),
      bar(group.score / group.weight, `${group.name}: ${pts(group.score)} trên ${pts(group.weight)} điểm`),
      h("details", { open: kept ? kept.has(group.id) : open },
        h("summary", {}, `${group.indicators.length} chỉ tiêu`),
        h("ul", { className: "indicators" }, group.indicators.map(indicator)))))),
  );
}

function indicator(item) {
  const lost = !item.applicable ? h("span", { className: "na" }, "không áp dụng")
    : item.lost > 0 ? h("span", { className: "lost" }, `mất ${pts(item.lost)} điểm`)
    : h("span", { className: "full" }, "đủ điểm");
  return h("li", { title: item.formula },
    h("span", { className: "name" }, item.name),
    h("span", { className: "points" }, item.value == null ? "" : `${pct(item.value)} · `, `${pts(item.score)}/${pts(item.weight)}`),
    lost);
}

// Days while they fit, then weeks, then months: a year of days would be bars a pixel wide.
function buckets(days) {
  const monday = (day) => shift(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));
  const [key, label, title, unit] = days.length <= 62 ? [(d) => d.day, (k) => dayText(k).slice(0, 5), dayText, "ngày"]
    : days.length <= 200 ? [(d) => monday(d.day), (k) => dayText(k).slice(0, 5), (k) => `Tuần từ ${dayText(k)}`, "tuần"]
    : [(d) => d.day.slice(0, 7), (k) => `T${Number(k.slice(5))}`, (k) => `Tháng ${Number(k.slice(5))}/${k.slice(0, 4)}`, "tháng"];
  const found = new Map();
  for (const day of days) {
    const bucket = found.get(key(day)) || { key: key(day), received: 0, resolved: 0, online: 0 };
    bucket.received += day.received; bucket.resolved += day.resolved; bucket.online += day.online;
    found.set(bucket.key, bucket);
  }
  const list = [...found.values()].map((b) => ({ ...b, label: label(b.key), title: title(b.key), rate: b.received ? (100 * b.online) / b.received : null }));
  return { list, unit };
}

// The left axis's top: four equal whole-number steps, each a round number (1, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ).
function axisTop(value) {
  const raw = Math.max(1, value / 4);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((m) => m >= raw && Number.isInteger(m));
  return 4 * step;
}

function drawTrend(trend) {
  const box = $("trend-chart");
  const { list, unit } = buckets(trend.days);
  const name = state.unit ? unitName(state.unit) : "Toàn tỉnh";
  $("trend-scope").textContent = `${name}, theo ${unit}, từ ${dayText(trend.period.from)} đến ${dayText(trend.period.to)}`;
  const total = (k) => list.reduce((sum, b) => sum + b[k], 0);
  const summary = `Tiếp nhận ${count(total("received"))}, đã giải quyết ${count(total("resolved"))}, trực tuyến ${count(total("online"))} hồ sơ.`;

  const width = Math.max(300, box.clientWidth || 600);
  const height = width > 600 ? 300 : 240;
  const pad = { left: 40, right: 44, top: 12, bottom: 28 };
  const step = (width - pad.left - pad.right) / Math.max(1, list.length);
  const top = axisTop(Math.max(...list.map((b) => Math.max(b.received, b.resolved)), 0));
  const x = (i) => pad.left + (i + 0.5) * step;
  const y = (v, max) => pad.top + (height - pad.top - pad.bottom) * (1 - v / max);
  const barWidth = Math.max(1, Math.min(16, step * 0.38));
  const labelEvery = Math.ceil(list.length / Math.max(2, Math.floor((width - pad.left - pad.right) / 48)));

  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => s("g", { className: "tick" },
    s("line", { x1: pad.left, x2: width - pad.right, y1: y(f * top, top), y2: y(f * top, top) }),
    s("text", { x: pad.left - 6, y: y(f * top, top) + 4, "text-anchor": "end" }, count(f * top)),
    s("text", { x: width - pad.right + 6, y: y(f * 100, 100) + 4 }, `${f * 100}%`)));
  const bars = list.map((b, i) => s("g", {},
    s("title", {}, `${b.title}: tiếp nhận ${count(b.received)}, đã giải quyết ${count(b.resolved)}, trực tuyến ${pct(b.rate)}`),
    s("rect", { className: "received", x: x(i) - barWidth, y: y(b.received, top), width: barWidth, height: y(0, top) - y(b.received, top) }),
    s("rect", { className: "resolved", x: x(i), y: y(b.resolved, top), width: barWidth, height: y(0, top) - y(b.resolved, top) }),
    i % labelEvery === 0 ? s("text", { className: "day", x: x(i), y: height - 8, "text-anchor": "middle" }, b.label) : null));
  let path = "";
  list.forEach((b, i) => {
    if (b.rate == null) return;
    const previous = i > 0 && list[i - 1].rate != null;
    path += `${previous ? "L" : "M"}${x(i).toFixed(1)},${y(b.rate, 100).toFixed(1)}`;
  });
  const dots = list.length <= 31 ? list.map((b, i) => (b.rate == null ? null : s("circle", { className: "online", cx: x(i), cy: y(b.rate, 100), r: 3 }))) : [];

  box.replaceChildren(s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": "trend-svg-title trend-svg-desc" },
    s("title", { id: "trend-svg-title" }, `Xu hướng hồ sơ tiếp nhận và đã giải quyết theo ${unit}; tỉ lệ nộp trực tuyến`),
    s("desc", { id: "trend-svg-desc" }, `${name}, từ ${dayText(trend.period.from)} đến ${dayText(trend.period.to)}: ${summary}`),
    grid, bars, s("path", { className: "online", d: path }), dots));

  $("trend-table").replaceChildren(table(`Số liệu theo ${unit}`,
    [[unit === "ngày" ? "Ngày" : unit === "tuần" ? "Tuần" : "Tháng"], ["Tiếp nhận", "num"], ["Đã giải quyết", "num"], ["Trực tuyến", "num"]],
    list.map((b) => h("tr", {}, h("th", { scope: "row" }, b.title), h("td", { className: "num" }, count(b.received)),
      h("td", { className: "num" }, count(b.resolved)), h("td", { className: "num" }, pct(b.rate)))),
    "Không có số liệu."));
}

const plain = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();

function drawRanking(communes) {
  const { key, up } = state.sort;
  const value = (c) => (key === "name" ? c.name : key === "rank" ? c.rank ?? 1e9 : c[key] ?? -1);
  const order = (a, b) => (key === "name" ? a.name.localeCompare(b.name, "vi") : value(a) - value(b)) * (up ? 1 : -1) || a.rank - b.rank;
  const wanted = plain(state.filter);
  const rows = communes.filter((c) => plain(c.name).includes(wanted)).sort(order).map((c) =>
    h("tr", { "data-unit": c.unit, className: c.unit === state.unit ? "selected" : null, "aria-current": c.unit === state.unit ? "true" : null },
      h("td", { className: "rank" }, c.rank ? `${c.rank}/${c.of}` : "Chưa xếp hạng"),
      h("th", { scope: "row" }, h("button", { type: "button", className: "link", onclick: () => choose(c.unit) }, c.name)),
      h("td", { className: "score" }, c.score === null ? "–" : h("div", {}, h("strong", {}, pts(c.score)), bar(c.score / 100, `${pts(c.score)} trên 100 điểm`))),
      h("td", { className: "num" }, count(c.received)),
      h("td", { className: "num" }, pct(c.early_or_on_time_rate)),
      h("td", { className: "num" }, pct(c.online_rate))));
  const body = $("ranking-table").tBodies[0];
  const focused = body.contains(document.activeElement) && document.activeElement.closest("tr").dataset.unit;
  body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6, className: "empty" }, "Không có xã nào khớp."))]));
  if (focused) body.querySelector(`tr[data-unit="${focused}"] button`)?.focus({ preventScroll: true }); // a live update keeps the reader's place
  for (const th of $("ranking-table").tHead.rows[0].cells) {
    if (th.dataset.sort === key) th.setAttribute("aria-sort", up ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

function drawUnits(communes) {
  const select = $("unit");
  if (select.options.length !== communes.length + 1) {
    const sorted = [...communes].sort((a, b) => a.name.localeCompare(b.name, "vi"));
    select.replaceChildren(h("option", { value: "" }, "Toàn tỉnh"), ...sorted.map((c) => h("option", { value: c.unit }, c.name)));
  }
  select.value = state.unit;
}

const unitName = (code) => shown.ranking?.communes.find((c) => c.unit === code)?.name || shown.unitFigures?.scope.unit_name || code;

const breakdownHeads = (first) => [[first], ["Tiếp nhận", "num"], ["Đã giải quyết", "num"], ["Đúng hạn", "num"], ["Trực tuyến", "num"], ["Quá hạn", "num"]];
const breakdownCells = (row) => [
  h("td", { className: "num" }, count(row.counters.received)), h("td", { className: "num" }, count(row.counters.resolved)),
  h("td", { className: "num" }, pct(row.rates.early_or_on_time_rate)), h("td", { className: "num" }, pct(row.rates.online_rate)),
  h("td", { className: row.counters.late ? "num late" : "num" }, count(row.counters.late))];

function drawDetail(figures, index, fields, procedures) {
  const name = state.unit ? unitName(state.unit) : "Toàn tỉnh";
  $("detail-scope").textContent = state.unit ? `${name} (${state.unit})` : "Toàn tỉnh: chọn một xã trong bảng xếp hạng để xem chi tiết";
  $("detail-back").hidden = !state.unit;
  $("detail-unit").hidden = !state.unit;
  if (state.unit && figures && index) {
    drawFigures($("detail-figures"), figures);
    drawIndex($("detail-index"), index, true);
  }
  $("fields-title").textContent = `Theo lĩnh vực: ${name}`;
  $("fields").replaceChildren(table(`Hồ sơ của ${name} theo lĩnh vực; chọn một lĩnh vực để xem theo thủ tục`, breakdownHeads("Lĩnh vực"),
    fields.rows.map((row) => h("tr", { className: row.key === state.field ? "selected" : null, "data-field": row.key },
      h("th", { scope: "row" }, h("button", { type: "button", className: "link", onclick: () => chooseField(row.key) }, row.name)),
      breakdownCells(row))),
    "Chưa có hồ sơ trong kỳ."));
  $("procedures-box").hidden = !state.field;
  if (state.field && procedures) {
    $("procedures-title").textContent = `Lĩnh vực ${state.field}: theo thủ tục`;
    $("procedures").replaceChildren(table(`Hồ sơ lĩnh vực ${state.field} của ${name} theo thủ tục`, breakdownHeads("Thủ tục"),
      procedures.rows.map((row) => h("tr", {}, h("th", { scope: "row" }, row.name), breakdownCells(row))),
      "Chưa có hồ sơ trong kỳ."));
  }
}

function drawDossiers(id, dossiers, empty) {
  const now = Date.now();
  const overdue = id === "overdue";
  $(`${id}-count`).textContent = `(${count(dossiers.length)})`;
  $(`${id}-list`).replaceChildren(table(overdue ? "Hồ sơ chưa giải quyết đã quá hạn, quá hạn lâu nhất trước" : "Hồ sơ chưa giải quyết sắp đến hạn, gần hạn nhất trước",
    [["Mã hồ sơ"], ["Đơn vị"], ["Thủ tục"], ["Hạn giải quyết"], ["Người đang xử lý"]],
    dossiers.map((d) => h("tr", {},
      h("th", { scope: "row", className: "code" }, d.code),
      h("td", {}, d.unit_name || d.unit),
      h("td", {}, d.procedure_name),
      h("td", { className: "due" }, h("time", { datetime: d.due_at }, dateTime(d.due_at)),
        h("span", { className: overdue ? "late" : "soon" }, overdue ? `quá ${span(now - Date.parse(d.due_at))}` : `còn ${span(Date.parse(d.due_at) - now)}`)),
      h("td", {}, d.holder || "–"))),
    empty));
}

function drawReports() {
  const query = new URLSearchParams({ from: state.from, to: state.to });
  if (state.unit) query.set("unit", state.unit);
  $("report-csv").href = `/stats/report.csv?${query}`;
  $("report-pdf").href = `/stats/report.pdf?${query}`;
}

// --- choices --------------------------------------------------------------------------------------

function remember() {
  const query = new URLSearchParams(state.range ? { range: state.range } : { from: state.from, to: state.to });
  if (state.unit) query.set("unit", state.unit);
  if (state.field) query.set("field", state.field);
  history.replaceState(null, "", `?${query}`);
}

function choose(unit) {
  state.unit = unit;
  state.field = "";
  remember();
  refresh().then(() => { if (unit) $("detail").scrollIntoView({ behavior: "smooth", block: "start" }); });
}

function chooseField(field) {
  state.field = field;
  remember();
  refresh();
}

function showPeriod(from, to) {
  state.from = $("from").value = from;
  state.to = $("to").value = to;
  for (const button of document.querySelectorAll("[data-range]")) button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
}

function setPeriod(range, from, to) {
  if (!from || !to || from > to) return showError("Khoảng thời gian không hợp lệ: ngày bắt đầu phải trước ngày kết thúc.");
  state.range = range;
  showPeriod(from, to);
  remember();
  refresh();
}

// --- live updates ---------------------------------------------------------------------------------

let soon = null;
function refreshSoon() {
  if (!soon) soon = setTimeout(() => { soon = null; refresh(); }, 800); // many changes, one reading
}

function follow() {
  const live = $("live");
  const say = (mode, text) => { live.dataset.state = mode; $("live-text").textContent = text; };
  const source = new EventSource("/stats/live");
  let opened = false;
  source.onopen = () => {
    say("live", "Trực tiếp");
    if (opened) refreshSoon(); // back after a break: what changed meanwhile
    opened = true;
  };
  source.addEventListener("changed", refreshSoon);
  source.onerror = () => {
    say("lost", "Mất kết nối, đang thử lại…");
    if (source.readyState === EventSource.CLOSED) { // the browser gave up: start again ourselves
      source.close();
      setTimeout(follow, 5000);
    }
  };
}

// --- start ----------------------------------------------------------------------------------------

function start() {
  const query = new URLSearchParams(location.search);
  const valid = (day) => (/^\d{4}-\d{2}-\d{2}$/.test(day || "") ? day : "");
  const [from, to] = [valid(query.get("from")), valid(query.get("to"))];
  state.range = from && to ? null : RANGES[query.get("range")] ? query.get("range") : "year";
  showPeriod(...(state.range ? RANGES[state.range](today()) : [from, to]));
  state.unit = query.get("unit") || "";
  state.field = query.get("field") || "";

  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("from").addEventListener("change", () => setPeriod(null, $("from").value, $("to").value));
  $("to").addEventListener("change", () => setPeriod(null, $("from").value, $("to").value));
  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => setPeriod(button.dataset.range, ...RANGES[button.dataset.range](today())));
  }
  $("unit").addEventListener("change", () => choose($("unit").value));
  $("detail-back").addEventListener("click", () => choose(""));
  $("field-back").addEventListener("click", () => chooseField(""));
  $("ranking-filter").addEventListener("input", (event) => { state.filter = event.target.value; drawRanking(shown.ranking.communes); });
  for (const th of document.querySelectorAll("#ranking-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      const up = state.sort.key === key ? !state.sort.up : key === "rank" || key === "name";
      state.sort = { key, up };
      if (shown.ranking) drawRanking(shown.ranking.communes);
    });
  }
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => shown.trend && drawTrend(shown.trend), 150);
  });
  refresh();
  follow();
}

start();
