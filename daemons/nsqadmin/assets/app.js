// nsqadmin's web UI: one page that draws itself from the URL path, from the JSON API of the
// same server, and redraws its data every few seconds without reloading. Plain JavaScript;
// Chart.js (window.Chart, from Debian's libjs-chart.js, served by nsqadmin) draws the graphs.
"use strict";
(function () {
  const BASE = (window.NSQADMIN && window.NSQADMIN.basePath) || "";
  const REFRESH_MS = 5000;
  const app = document.getElementById("app");
  const notices = document.getElementById("notices");
  let timer = null;
  let charts = [];

  // ---- helpers -------------------------------------------------------------------------------
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g,
      (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const enc = encodeURIComponent;
  const num = (n) => (n == null ? "–" : Number(n).toLocaleString("en-US"));
  const rate = (r) => (r == null ? "–" : (r < 10 ? r.toFixed(2) : r.toFixed(1)) + "/s");
  const link = (path, text) => `<a href="${BASE}${path}">${esc(text)}</a>`;
  const pausedBadge = (p) => (p ? ' <span class="badge paused">paused</span>' : "");

  function duration(ns) {
    let s = Math.max(0, Math.floor(ns / 1e9));
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
  }
  function latency(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(2) + "s";
    if (ns >= 1e6) return (ns / 1e6).toFixed(1) + "ms";
    if (ns >= 1e3) return (ns / 1e3).toFixed(1) + "µs";
    return Math.round(ns) + "ns";
  }
  function e2e(lat) {
    if (!lat || !lat.percentiles || !lat.percentiles.length) return "–";
    return lat.percentiles.map((p) => `p${+(p.quantile * 100).toFixed(2)} ${latency(p.average != null ? p.average : p.value)}`).join(", ");
  }

  async function api(path, options) {
    const res = await fetch(BASE + path, Object.assign({headers: {"Accept": "application/json"}}, options || {}));
    let body = {};
    try { body = await res.json(); } catch (e) { body = {message: res.statusText}; }
    if (!res.ok) {
      const err = new Error(body.message || res.statusText);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function notice(kind, html, sticky) {
    const div = document.createElement("div");
    div.className = "notice " + kind;
    div.innerHTML = '<button class="close" aria-label="dismiss">×</button>' + html;
    div.querySelector(".close").onclick = () => div.remove();
    notices.appendChild(div);
    if (!sticky) setTimeout(() => div.remove(), 15000);
    return div;
  }
  // The API's "message": nodes that did not answer. One banner, replaced on each refresh.
  function warn(message) {
    let div = document.getElementById("api-warning");
    if (!message) { if (div) div.remove(); return; }
    if (!div) {
      div = document.createElement("div");
      div.id = "api-warning";
      div.className = "notice warning";
      notices.prepend(div);
    }
    div.textContent = message;
  }

  // Asks, acts, and shows what each node said.
  async function act(question, method, path, body, after) {
    if (!window.confirm(question)) return;
    try {
      const res = await api(path, {method: method, headers: {"Content-Type": "application/json"},
                                  body: body ? JSON.stringify(body) : undefined});
      const results = res.results || [];
      const failed = results.filter((r) => !r.ok);
      const items = results.map((r) => `<li>${esc(r.kind)} ${esc(r.node)}: ${r.ok ? "done" : esc(r.error)}</li>`).join("");
      notice(failed.length ? "error" : "success",
             `<strong>${esc(question.replace(/\?$/, ""))}</strong>: ${failed.length ? failed.length + " of " + results.length + " nodes failed" : "done on " + results.length + " node" + (results.length === 1 ? "" : "s")}` +
             (items ? `<ul class="results">${items}</ul>` : "") + (res.message ? `<div>${esc(res.message)}</div>` : ""));
    } catch (e) {
      notice("error", `<strong>${esc(question.replace(/\?$/, ""))}</strong> failed: ${esc(e.message)}`, true);
    }
    if (after) after(); else refresh();
  }

  // ---- charts --------------------------------------------------------------------------------
  const SERIES = [
    {col: 1, label: "Depth", color: "#2563eb", axis: "y"},
    {col: 2, label: "In flight", color: "#7c3aed", axis: "y"},
    {col: 3, label: "Publish/s", color: "#059669", axis: "rate"},
    {col: 4, label: "Finish/s", color: "#0891b2", axis: "rate"},
    {col: 5, label: "Requeue/s", color: "#d97706", axis: "rate"},
    {col: 6, label: "Timeout/s", color: "#dc2626", axis: "rate"},
  ];
  const clock = (ms) => new Date(ms).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});

  function historyChart(canvas) {
    if (!window.Chart) return null;
    const chart = new window.Chart(canvas, {
      type: "line",
      data: {datasets: SERIES.map((s) => ({label: s.label, data: [], borderColor: s.color, backgroundColor: s.color,
                                            yAxisID: s.axis, pointRadius: 0, borderWidth: 2, tension: 0}))},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: {mode: "index", intersect: false},
        plugins: {legend: {position: "bottom", labels: {boxWidth: 12}},
                  tooltip: {callbacks: {title: (items) => items.length ? clock(items[0].parsed.x) : ""}}},
        scales: {
          x: {type: "linear", ticks: {callback: (v) => clock(v), maxTicksLimit: 8}, grid: {display: false}},
          y: {position: "left", beginAtZero: true, title: {display: true, text: "messages"}},
          rate: {position: "right", beginAtZero: true, title: {display: true, text: "per second"}, grid: {drawOnChartArea: false}},
        },
      },
    });
    charts.push(chart);
    return chart;
  }
  function fillChart(chart, history) {
    if (!chart) return;
    const points = history.points || [];
    SERIES.forEach((s, i) => { chart.data.datasets[i].data = points.map((p) => ({x: p[0], y: p[s.col]})); });
    chart.update("none");
  }
  function sparkline(canvas, points, col) {
    const ctx = canvas.getContext("2d");
    const w = canvas.width = canvas.clientWidth * (window.devicePixelRatio || 1);
    const h = canvas.height = canvas.clientHeight * (window.devicePixelRatio || 1);
    ctx.clearRect(0, 0, w, h);
    if (!points || points.length < 2) return;
    const values = points.map((p) => p[col]);
    const max = Math.max(1, ...values);
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * (w - 2) + 1;
      const y = h - 2 - (v / max) * (h - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = "#2563eb";
    ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1);
    ctx.stroke();
    canvas.dataset.points = String(values.length);
  }

  // ---- pages ---------------------------------------------------------------------------------
  // Each page: draw(params) builds the skeleton once; update(params) fills it and runs again
  // every REFRESH_MS.
  const pages = {};

  pages.topics = {
    nav: "topics",
    draw() {
      app.innerHTML = `<h1>Topics</h1><div class="table-wrap" id="topics"></div>`;
    },
    async update() {
      const [list, hist] = await Promise.all([api("/api/topics"), api("/api/history").catch(() => ({topics: {}}))]);
      warn(list.message);
      const topics = list.topics || [];
      const el = document.getElementById("topics");
      if (!topics.length) { el.innerHTML = '<div class="empty">No topics in the cluster yet.</div>'; return; }
      el.innerHTML = `<table><thead><tr><th>Topic</th><th class="num" title="messages waiting in the topic and its channels">Backlog</th><th class="num">In flight</th>
        <th class="num">Publish rate</th><th>Backlog, last hour</th><th>Publish rate, last hour</th></tr></thead><tbody>` +
        topics.map((t) => {
          const pts = (hist.topics || {})[t] || [];
          const last = pts.length ? pts[pts.length - 1] : null;
          return `<tr data-topic="${esc(t)}"><td>${link("/topics/" + enc(t), t)}</td>
            <td class="num">${last ? num(last[1]) : "–"}</td><td class="num">${last ? num(last[2]) : "–"}</td>
            <td class="num">${last ? rate(last[3]) : "–"}</td>
            <td><canvas class="spark" data-col="1"></canvas></td><td><canvas class="spark" data-col="3"></canvas></td></tr>`;
        }).join("") + "</tbody></table>";
      el.querySelectorAll("tr[data-topic]").forEach((row) => {
        const pts = (hist.topics || {})[row.dataset.topic] || [];
        row.querySelectorAll("canvas.spark").forEach((c) => sparkline(c, pts, +c.dataset.col));
      });
    },
  };

  function nodeRowsTopic(nodes) {
    return (nodes || []).map((n) => `<tr data-node="${esc(n.node)}"><td>${link("/nodes/" + enc(n.node), n.node)}${pausedBadge(n.paused)}</td>
      <td class="num">${num(n.depth)}</td><td class="num">${num(n.memory_depth)}</td><td class="num">${num(n.backend_depth)}</td>
      <td class="num">${num(n.message_count)}</td><td>${esc(e2e(n.e2e_processing_latency))}</td>
      <td><button class="small danger" data-tombstone="${esc(n.node)}">Tombstone</button></td></tr>`).join("");
  }

  pages.topic = {
    nav: "topics",
    draw(p) {
      app.innerHTML = `<h1><span class="crumb">${link("/", "Topics")} /</span> ${esc(p.topic)} <span id="state"></span></h1>
        <div class="actions">
          <button id="action-pause">Pause</button><button id="action-unpause">Unpause</button>
          <button class="danger" id="action-empty">Empty queue</button><button class="danger" id="action-delete">Delete topic</button>
        </div>
        <div class="stats" id="summary"></div>
        <h2>Last hour</h2><div class="chart-box"><canvas id="history-chart"></canvas></div>
        <h2>Channels</h2><div class="table-wrap" id="channels"></div>
        <h2>Producers</h2><div class="table-wrap" id="nodes"></div>`;
      const t = enc(p.topic);
      document.getElementById("action-pause").onclick = () => act(`Pause topic ${p.topic}?`, "POST", `/api/topics/${t}`, {action: "pause"});
      document.getElementById("action-unpause").onclick = () => act(`Unpause topic ${p.topic}?`, "POST", `/api/topics/${t}`, {action: "unpause"});
      document.getElementById("action-empty").onclick = () => act(`Empty topic ${p.topic} on every node?`, "POST", `/api/topics/${t}`, {action: "empty"});
      document.getElementById("action-delete").onclick = () =>
        act(`Delete topic ${p.topic} and all its channels?`, "DELETE", `/api/topics/${t}`, null, () => navigate("/"));
      document.getElementById("nodes").onclick = (ev) => {
        const node = ev.target.dataset && ev.target.dataset.tombstone;
        if (node) act(`Tombstone ${node} for topic ${p.topic}?`, "DELETE", `/api/nodes/${enc(node)}`, {topic: p.topic});
      };
      this.chart = historyChart(document.getElementById("history-chart"));
    },
    async update(p) {
      const [t, hist] = await Promise.all([api(`/api/topics/${enc(p.topic)}`),
                                           api(`/api/history?topic=${enc(p.topic)}`).catch(() => ({points: []}))]);
      warn(t.message);
      const points = hist.points || [];
      const last = points.length ? points[points.length - 1] : null;
      document.getElementById("state").innerHTML = pausedBadge(t.paused);
      document.getElementById("summary").innerHTML = [
        ["Depth", num(t.depth)], ["In memory", num(t.memory_depth)], ["On disk", num(t.backend_depth)],
        ["Messages", num(t.message_count)], ["Publish rate", last ? rate(last[3]) : "–"],
        ["Channels", num((t.channels || []).length)], ["Producers", num((t.nodes || []).length)],
      ].map(([l, v]) => `<div class="stat"><div class="label">${l}</div><div class="value">${v}</div></div>`).join("");
      fillChart(this.chart, hist);
      const chans = t.channels || [];
      document.getElementById("channels").innerHTML = chans.length ? `<table><thead><tr><th>Channel</th>
        <th class="num">Depth</th><th class="num">In flight</th><th class="num">Deferred</th><th class="num">Requeued</th>
        <th class="num">Timed out</th><th class="num">Messages</th><th class="num">Clients</th><th>E2E latency</th></tr></thead><tbody>` +
        chans.map((c) => `<tr data-channel="${esc(c.channel_name)}"><td>${link(`/topics/${enc(p.topic)}/${enc(c.channel_name)}`, c.channel_name)}${pausedBadge(c.paused)}</td>
          <td class="num">${num(c.depth)}</td><td class="num">${num(c.in_flight_count)}</td><td class="num">${num(c.deferred_count)}</td>
          <td class="num">${num(c.requeue_count)}</td><td class="num">${num(c.timeout_count)}</td><td class="num">${num(c.message_count)}</td>
          <td class="num">${num(c.client_count)}</td><td>${esc(e2e(c.e2e_processing_latency))}</td></tr>`).join("") + "</tbody></table>"
        : '<div class="empty">No channels: messages wait in the topic until a channel exists.</div>';
      document.getElementById("nodes").innerHTML = `<table><thead><tr><th>Node</th><th class="num">Depth</th><th class="num">In memory</th>
        <th class="num">On disk</th><th class="num">Messages</th><th>E2E latency</th><th></th></tr></thead><tbody>` +
        nodeRowsTopic(t.nodes) + "</tbody></table>";
    },
  };

  pages.channel = {
    nav: "topics",
    draw(p) {
      app.innerHTML = `<h1><span class="crumb">${link("/", "Topics")} / ${link("/topics/" + enc(p.topic), p.topic)} /</span> ${esc(p.channel)} <span id="state"></span></h1>
        <div class="actions">
          <button id="action-pause">Pause</button><button id="action-unpause">Unpause</button>
          <button class="danger" id="action-empty">Empty queue</button><button class="danger" id="action-delete">Delete channel</button>
        </div>
        <div class="stats" id="summary"></div>
        <h2>Last hour</h2><div class="chart-box"><canvas id="history-chart"></canvas></div>
        <h2>Nodes</h2><div class="table-wrap" id="nodes"></div>
        <h2>Clients</h2><div class="table-wrap" id="clients"></div>`;
      const path = `/api/topics/${enc(p.topic)}/${enc(p.channel)}`;
      const name = `channel ${p.topic}/${p.channel}`;
      document.getElementById("action-pause").onclick = () => act(`Pause ${name}?`, "POST", path, {action: "pause"});
      document.getElementById("action-unpause").onclick = () => act(`Unpause ${name}?`, "POST", path, {action: "unpause"});
      document.getElementById("action-empty").onclick = () => act(`Empty ${name} on every node?`, "POST", path, {action: "empty"});
      document.getElementById("action-delete").onclick = () =>
        act(`Delete ${name}?`, "DELETE", path, null, () => navigate("/topics/" + enc(p.topic)));
      this.chart = historyChart(document.getElementById("history-chart"));
    },
    async update(p) {
      const [c, hist] = await Promise.all([api(`/api/topics/${enc(p.topic)}/${enc(p.channel)}`),
                                           api(`/api/history?topic=${enc(p.topic)}&channel=${enc(p.channel)}`).catch(() => ({points: []}))]);
      warn(c.message);
      if (c.channel_name == null) {
        document.getElementById("summary").innerHTML = '<div class="empty">This channel does not exist (any more).</div>';
        return;
      }
      const points = hist.points || [];
      const last = points.length ? points[points.length - 1] : null;
      document.getElementById("state").innerHTML = pausedBadge(c.paused);
      document.getElementById("summary").innerHTML = [
        ["Depth", num(c.depth)], ["In flight", num(c.in_flight_count)], ["Deferred", num(c.deferred_count)],
        ["Requeued", num(c.requeue_count)], ["Timed out", num(c.timeout_count)], ["Messages", num(c.message_count)],
        ["Finish rate", last ? rate(last[4]) : "–"], ["Clients", num(c.client_count)],
      ].map(([l, v]) => `<div class="stat"><div class="label">${l}</div><div class="value">${v}</div></div>`).join("");
      fillChart(this.chart, hist);
      document.getElementById("nodes").innerHTML = `<table><thead><tr><th>Node</th><th class="num">Depth</th><th class="num">In flight</th>
        <th class="num">Deferred</th><th class="num">Requeued</th><th class="num">Timed out</th><th class="num">Messages</th>
        <th class="num">Clients</th><th>E2E latency</th></tr></thead><tbody>` +
        (c.nodes || []).map((n) => `<tr data-node="${esc(n.node)}"><td>${link("/nodes/" + enc(n.node), n.node)}${pausedBadge(n.paused)}</td>
          <td class="num">${num(n.depth)}</td><td class="num">${num(n.in_flight_count)}</td><td class="num">${num(n.deferred_count)}</td>
          <td class="num">${num(n.requeue_count)}</td><td class="num">${num(n.timeout_count)}</td><td class="num">${num(n.message_count)}</td>
          <td class="num">${num(n.client_count)}</td><td>${esc(e2e(n.e2e_processing_latency))}</td></tr>`).join("") + "</tbody></table>";
      const clients = c.clients || [];
      document.getElementById("clients").innerHTML = clients.length ? `<table><thead><tr><th>Client</th><th>Address</th>
        <th>Node</th><th>User agent</th><th>TLS</th><th>Compression</th><th class="num">RDY</th><th class="num">In flight</th>
        <th class="num">Finished</th><th class="num">Requeued</th><th class="num">Messages</th><th>Connected</th></tr></thead><tbody>` +
        clients.map((cl) => `<tr><td>${esc(cl.client_id || cl.hostname)}</td><td class="mono">${esc(cl.remote_address)}</td>
          <td>${esc(cl.node)}</td><td>${esc(cl.user_agent || "–")}</td>
          <td>${cl.tls ? `<span class="badge ok">${esc(cl.tls_version || "TLS")}</span>` : "–"}</td>
          <td>${cl.snappy ? "snappy" : cl.deflate ? "deflate" : "–"}</td><td class="num">${num(cl.ready_count)}</td>
          <td class="num">${num(cl.in_flight_count)}</td><td class="num">${num(cl.finish_count)}</td><td class="num">${num(cl.requeue_count)}</td>
          <td class="num">${num(cl.message_count)}</td><td>${duration(cl.connected)}</td></tr>`).join("") + "</tbody></table>"
        : '<div class="empty">No clients are subscribed.</div>';
    },
  };

  pages.nodes = {
    nav: "nodes",
    draw() { app.innerHTML = `<h1>Nodes</h1><div class="table-wrap" id="nodes"></div>`; },
    async update() {
      const res = await api("/api/nodes");
      warn(res.message);
      const nodes = res.nodes || [];
      document.getElementById("nodes").innerHTML = nodes.length ? `<table><thead><tr><th>Hostname</th><th>Broadcast address</th>
        <th class="num">TCP port</th><th class="num">HTTP port</th><th>Version</th><th>Lookupd connections</th><th class="num">Topics</th></tr></thead><tbody>` +
        nodes.map((n) => {
          const addr = n.broadcast_address.indexOf(":") >= 0 ? `[${n.broadcast_address}]:${n.http_port}` : `${n.broadcast_address}:${n.http_port}`;
          return `<tr data-node="${esc(addr)}"><td>${link("/nodes/" + enc(addr), n.hostname)}</td><td>${esc(n.broadcast_address)}</td>
            <td class="num">${n.tcp_port}</td><td class="num">${n.http_port}</td>
            <td>${esc(n.version)}${n.out_of_date ? ' <span class="badge warn">out of date</span>' : ""}</td>
            <td class="mono">${(n.remote_addresses || []).map(esc).join("<br>") || "–"}</td>
            <td class="num">${(n.topics || []).length}</td></tr>`;
        }).join("") + "</tbody></table>" : '<div class="empty">No nsqd nodes found.</div>';
    },
  };

  pages.node = {
    nav: "nodes",
    draw(p) {
      app.innerHTML = `<h1><span class="crumb">${link("/nodes", "Nodes")} /</span> ${esc(p.node)}</h1>
        <div class="stats" id="summary"></div><h2>Topics and channels</h2><div class="table-wrap" id="topics"></div>`;
    },
    async update(p) {
      const res = await api(`/api/nodes/${enc(p.node)}`);
      warn(res.message);
      const topics = res.topics || [];
      document.getElementById("summary").innerHTML = [["Topics", num(topics.length)], ["Messages", num(res.total_messages)],
        ["Clients", num(res.total_clients)]].map(([l, v]) => `<div class="stat"><div class="label">${l}</div><div class="value">${v}</div></div>`).join("");
      document.getElementById("topics").innerHTML = topics.length ? `<table><thead><tr><th>Topic / channel</th><th class="num">Depth</th>
        <th class="num">In memory</th><th class="num">On disk</th><th class="num">In flight</th><th class="num">Messages</th><th class="num">Clients</th></tr></thead><tbody>` +
        topics.map((t) => `<tr class="total"><td>${link("/topics/" + enc(t.topic_name), t.topic_name)}${pausedBadge(t.paused)}</td>
          <td class="num">${num(t.depth)}</td><td class="num">${num(t.memory_depth)}</td><td class="num">${num(t.backend_depth)}</td><td></td>
          <td class="num">${num(t.message_count)}</td><td></td></tr>` +
          (t.channels || []).map((c) => `<tr><td>&nbsp;&nbsp;↳ ${link(`/topics/${enc(t.topic_name)}/${enc(c.channel_name)}`, c.channel_name)}${pausedBadge(c.paused)}</td>
            <td class="num">${num(c.depth)}</td><td class="num">${num(c.memory_depth)}</td><td class="num">${num(c.backend_depth)}</td>
            <td class="num">${num(c.in_flight_count)}</td><td class="num">${num(c.message_count)}</td><td class="num">${num((c.clients || []).length)}</td></tr>`).join("")).join("") +
        "</tbody></table>" : '<div class="empty">This node has no topics.</div>';
    },
  };

  pages.counter = {
    nav: "counter",
    draw() {
      app.innerHTML = `<h1>Messages processed</h1><div class="counter-big" id="counter">–</div><div class="counter-rate" id="counter-rate"></div>`;
      this.prev = null;
    },
    async update() {
      const res = await api("/api/counter");
      warn(res.message);
      let total = 0;
      Object.values(res.stats || {}).forEach((s) => { total += s.message_count; });
      document.getElementById("counter").textContent = num(total);
      const now = Date.now();
      if (this.prev && now > this.prev.t) {
        const r = Math.max(0, (total - this.prev.total) / ((now - this.prev.t) / 1000));
        document.getElementById("counter-rate").textContent = `${rate(r)} over the last ${Math.round((now - this.prev.t) / 1000)} s, summed over every channel`;
      }
      this.prev = {t: now, total: total};
    },
  };

  pages.lookup = {
    nav: "lookup",
    draw() {
      app.innerHTML = `<h1>Lookup</h1>
        <h2>Create a topic or channel</h2>
        <form class="inline panel" id="create" style="padding:12px">
          <input type="text" id="create-topic" placeholder="topic" required>
          <input type="text" id="create-channel" placeholder="channel (optional)">
          <button class="primary" type="submit">Create</button>
        </form>
        <h2>Topics without producers</h2><div class="table-wrap" id="inactive"></div>`;
      document.getElementById("create").onsubmit = (ev) => {
        ev.preventDefault();
        const topic = document.getElementById("create-topic").value.trim();
        const channel = document.getElementById("create-channel").value.trim();
        if (!topic) return;
        act(channel ? `Create channel ${topic}/${channel}?` : `Create topic ${topic}?`, "POST", "/api/topics", {topic: topic, channel: channel});
      };
    },
    async update() {
      const res = await api("/api/topics?inactive=true");
      warn(res.message);
      const topics = Object.keys(res.topics || {}).sort();
      document.getElementById("inactive").innerHTML = topics.length ? `<table><thead><tr><th>Topic</th><th>Channels</th></tr></thead><tbody>` +
        topics.map((t) => `<tr><td>${esc(t)}</td><td>${(res.topics[t] || []).map(esc).join(", ") || "–"}</td></tr>`).join("") + "</tbody></table>"
        : '<div class="empty">Every topic known to nsqlookupd has a producer.</div>';
    },
  };

  // ---- routing -------------------------------------------------------------------------------
  function resolve(path) {
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0 || (parts.length === 1 && parts[0] === "topics")) return [pages.topics, {}];
    if (parts[0] === "topics" && parts.length === 2) return [pages.topic, {topic: parts[1]}];
    if (parts[0] === "topics" && parts.length === 3) return [pages.channel, {topic: parts[1], channel: parts[2]}];
    if (parts[0] === "nodes" && parts.length === 1) return [pages.nodes, {}];
    if (parts[0] === "nodes" && parts.length === 2) return [pages.node, {node: parts[1]}];
    if (parts[0] === "counter") return [pages.counter, {}];
    if (parts[0] === "lookup") return [pages.lookup, {}];
    return [null, {}];
  }

  let current = null;
  async function refresh() {
    if (!current) return;
    const [page, params] = current;
    try {
      await page.update(params);
      document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString() + " · refreshes every " + REFRESH_MS / 1000 + " s";
    } catch (e) {
      warn((e.status ? e.status + ": " : "") + e.message);
    }
  }

  function show(fullPath) {
    let path = fullPath;
    if (BASE && path.indexOf(BASE) === 0) path = path.slice(BASE.length);
    charts.forEach((c) => c.destroy());
    charts = [];
    warn("");
    const [page, params] = resolve(path || "/");
    document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", !!page && a.dataset.nav === page.nav));
    if (!page) { app.innerHTML = '<div class="empty">Page not found.</div>'; current = null; return; }
    current = [page, params];
    page.draw(params);
    refresh();
    if (timer) clearInterval(timer);
    timer = setInterval(refresh, REFRESH_MS);
  }
  function navigate(path) {
    history.pushState(null, "", BASE + path);
    show(location.pathname);
  }
  // Links inside the console move without reloading the page.
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || (BASE && url.pathname.indexOf(BASE) !== 0)) return;
    ev.preventDefault();
    history.pushState(null, "", url.pathname);
    show(url.pathname);
  });
  window.addEventListener("popstate", () => show(location.pathname));
  window.nsqadmin = {refresh: refresh, charts: () => charts};
  show(location.pathname);
})();
