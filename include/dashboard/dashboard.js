// The drill-through page: reads the state from the URL, asks api/view for it, and draws it.
// Every name is set as text (textContent), never as HTML: OU and account names are untrusted.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const LIGHT_CLASS = { green: "light-green", amber: "light-amber", red: "light-red" };
  let money = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  // Links from the API are relative query strings ("?ou=..."): only those are followed.
  function link(url, text) {
    if (typeof url !== "string" || !url.startsWith("?")) return document.createTextNode(text);
    return el("a", { href: url }, text);
  }

  function change(value) {
    if (value === null || value === undefined) return el("span", { class: "muted" }, "–");
    const sign = value > 0 ? "+" : value < 0 ? "−" : "";
    const cls = value > 0 ? "up" : value < 0 ? "down" : "muted";
    return el("span", { class: cls }, sign + money(Math.abs(value)));
  }

  function percent(share) {
    return share === null || share === undefined ? "" : (share * 100).toFixed(1) + "%";
  }

  function setStatus(text, kind) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.className = "status " + kind;
    status.hidden = !text;
  }

  function fillForm(state) {
    for (const name of ["from", "to", "ou", "service", "account"]) {
      document.getElementById(name).value = state[name] || "";
    }
  }

  function drawCrumbs(crumbs) {
    const nav = document.getElementById("crumbs");
    nav.replaceChildren();
    crumbs.forEach((c, i) => {
      if (i) nav.append(el("span", { class: "sep" }, "›"));
      const last = i === crumbs.length - 1;
      nav.append(last ? el("span", { class: "here" }, c.label) : link(c.url, c.label));
    });
  }

  function drawTable(spec) {
    const card = el("section", { class: "card", "data-dimension": spec.dimension });
    card.append(el("h2", {}, spec.title));
    if (!spec.rows.length) {
      card.append(el("p", { class: "muted" }, spec.empty || "No costs in this range."));
      return card;
    }
    const table = el("table", { class: "breakdown" });
    const isUsage = spec.dimension === "usage_type";
    table.append(
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, isUsage ? "Usage type" : spec.title.replace(/s$/, "")),
          el("th", { class: "num" }, isUsage ? "Spike impact" : "Cost"),
          el("th", { class: "num" }, isUsage ? "Day" : "Share"),
          el("th", { class: "num" }, isUsage ? "" : "vs previous period")
        )
      )
    );
    const body = el("tbody");
    for (const row of spec.rows) {
      body.append(
        el(
          "tr",
          { "data-key": row.key },
          el("td", { class: "label" }, link(row.url, row.label)),
          el("td", { class: "num cost" }, money(row.cost)),
          el("td", { class: "num" }, isUsage ? row.day : percent(row.share)),
          el("td", { class: "num" }, isUsage ? "" : change(row.change))
        )
      );
    }
    table.append(body);
    card.append(table);
    return card;
  }

  function drawTrend(points, anomalies) {
    const box = document.getElementById("trend");
    box.replaceChildren();
    const width = 860, height = 220, left = 70, right = 16, top = 14, bottom = 34;
    const values = points.map((p) => p.cost || 0);
    const max = Math.max(1, ...values) * 1.1;
    const n = points.length;
    const x = (i) => left + (n === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (n - 1));
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": "Daily cost",
      class: "chart",
    });
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      chart.append(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }));
      const label = svg("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" });
      label.textContent = money(v).replace(/\.\d\d$/, "");
      chart.append(label);
    }
    const step = Math.max(1, Math.ceil(n / 10));
    points.forEach((p, i) => {
      if (i % step && i !== n - 1) return;
      const label = svg("text", { x: x(i), y: height - 12, class: "axis", "text-anchor": "middle" });
      label.textContent = p.day.slice(5);
      chart.append(label);
    });
    if (n > 1) {
      const path = points.map((p, i) => `${i ? "L" : "M"}${x(i)},${y(p.cost || 0)}`).join(" ");
      chart.append(svg("path", { d: path, class: "line" }));
    }
    points.forEach((p, i) => {
      const dot = svg("circle", { cx: x(i), cy: y(p.cost || 0), r: 3, class: p.cost === null ? "dot missing" : "dot" });
      const tip = svg("title", {});
      tip.textContent = `${p.day}: ${p.cost === null ? "not archived / no cost" : money(p.cost)}`;
      dot.append(tip);
      chart.append(dot);
    });
    const index = Object.fromEntries(points.map((p, i) => [p.day, i]));
    for (const a of anomalies) {
      const i = index[a.day];
      if (i === undefined) continue;
      const anchor = svg("a", { href: a.url, class: "spike-link" });
      const mark = svg("circle", { cx: x(i), cy: y(points[i].cost || 0), r: 7, class: "spike" });
      const tip = svg("title", {});
      tip.textContent = `Spike ${a.day}: ${a.ou} / ${a.service} +${money(a.impact)}`;
      mark.append(tip);
      anchor.append(mark);
      chart.append(anchor);
    }
    box.append(chart);
  }

  function drawBudgets(budgets) {
    const card = document.getElementById("budgets-card");
    const table = document.getElementById("budgets");
    table.replaceChildren();
    if (!budgets || !budgets.rows.length) {
      card.hidden = true;
      return;
    }
    card.hidden = false;
    document.getElementById("budgets-title").textContent = `Month to date vs budget on ${budgets.day}`;
    table.append(
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "OU"),
          el("th", { class: "num" }, "Month to date"),
          el("th", { class: "num" }, "Budget"),
          el("th", { class: "num" }, "Forecast (month end)"),
          el("th", {}, "Status")
        )
      )
    );
    const body = el("tbody");
    for (const r of budgets.rows) {
      body.append(
        el(
          "tr",
          { "data-ou": r.ou },
          el("td", { class: "label" }, link(r.url, r.ou)),
          el("td", { class: "num" }, money(r.month_to_date)),
          el("td", { class: "num" }, money(r.budget)),
          el("td", { class: "num" }, money(r.forecast)),
          el("td", {}, el("span", { class: "light " + (LIGHT_CLASS[r.light] || "light-none") }, r.light_word))
        )
      );
    }
    table.append(body);
  }

  function drawAnomalies(anomalies) {
    const table = document.getElementById("anomalies");
    table.replaceChildren();
    if (!anomalies.length) {
      table.append(el("tbody", {}, el("tr", {}, el("td", { class: "muted" }, "No spikes in this range."))));
      return;
    }
    table.append(
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "Day"),
          el("th", {}, "Spike"),
          el("th", { class: "num" }, "Impact"),
          el("th", {}, "Why"),
          el("th", {}, "Root cause")
        )
      )
    );
    const body = el("tbody");
    for (const a of anomalies) {
      const cause = [a.account_label || a.account, a.usage_type].filter(Boolean).join(" · ");
      body.append(
        el(
          "tr",
          { class: "spike-row" },
          el("td", {}, a.day),
          el("td", {}, `${a.ou} / ${a.service}`, el("span", { class: "status-tag" }, a.status)),
          el("td", { class: "num up" }, "+" + money(a.impact)),
          el("td", { class: "why" }, a.reason || ""),
          el("td", {}, link(a.url, cause || "Show the trend"))
        )
      );
    }
    table.append(body);
  }

  function draw(view) {
    const currency = view.currency || "USD";
    const fmt = new Intl.NumberFormat("en-US", { style: "currency", currency });
    money = (v) => (v === null || v === undefined ? "–" : fmt.format(v));
    fillForm(view.state);
    drawCrumbs(view.breadcrumbs);
    document.getElementById("title").textContent = view.title;
    const days = view.state.from === view.state.to ? view.state.from : `${view.state.from} to ${view.state.to}`;
    document.getElementById("summary").textContent = `${money(view.total)} on ${days}`;
    const rollup = document.getElementById("rollup");
    rollup.textContent = view.rollup_note || "";
    rollup.hidden = !view.rollup_note;
    const notices = document.getElementById("notices");
    notices.replaceChildren(...view.notices.map((n) => el("li", {}, n)));
    drawTrend(view.trend, view.anomalies);
    drawBudgets(view.budgets);
    const tables = document.getElementById("tables");
    tables.replaceChildren(...view.tables.map(drawTable));
    drawAnomalies(view.anomalies);
    document.getElementById("timing").textContent =
      `${view.timing.athena_queries} Athena queries, answered in ${view.timing.seconds.toFixed(2)} s`;
    document.getElementById("content").hidden = false;
    document.title = `${view.title} · FinOps dashboard`;
    setStatus("", "ready");
    document.body.dataset.state = "ready";
  }

  async function load() {
    const api = document.body.dataset.api;
    const params = new URLSearchParams(window.location.search);
    fillForm(Object.fromEntries(params));
    setStatus("Loading from Athena…", "loading");
    document.body.dataset.state = "loading";
    let response, body;
    try {
      response = await fetch(api + window.location.search, { credentials: "same-origin" });
      body = await response.json();
    } catch (err) {
      setStatus(`The dashboard's server did not answer (${err.message}). Try again shortly.`, "error");
      document.body.dataset.state = "error";
      return;
    }
    if (!response.ok) {
      setStatus(body.error || `Error ${response.status}`, "error");
      document.body.dataset.state = "error";
      return;
    }
    draw(body);
  }

  document.addEventListener("DOMContentLoaded", load);
})();
