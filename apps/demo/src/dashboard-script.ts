/**
 * The dashboard's script, plain ES5 run as is by the browser: it builds one card per pool from the
 * first snapshot, keeps 60 s of history per series, and redraws the canvases on every snapshot.
 */
export const DASHBOARD_SCRIPT = String.raw`"use strict";
var HISTORY = 240; // 60 s at 4 updates a second
var WINDOW_MS = 60000;
var WHAT = {
  pg: "PostgreSQL: pg clients, partitions api / batch",
  http2: "HTTP/2: undici sessions, streams multiplexed",
  grpc: "gRPC: grpc-js channels, health checked",
  ssh: "SSH: ssh2 connections, exec channels multiplexed",
  tcp: "TCP: echo round trips"
};
var OPS = { pg: ["pg-api", "pg-batch"], http2: ["http2"], grpc: ["grpc"], ssh: ["ssh"], tcp: ["tcp"] };
var state = { hello: null, built: false, pools: {}, nodes: {}, lastOps: null, lastAt: 0, faultTimes: {}, updates: 0, rateTouched: 0 };

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  if (attrs) for (var key in attrs) {
    if (key === "text") node.textContent = attrs[key];
    else if (key === "className") node.className = attrs[key];
    else node.setAttribute(key, attrs[key]);
  }
  (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  return node;
}
function legend(items) {
  return el("figcaption", null, items.map(function (item) {
    return el("i", { className: "c-" + item[0], text: item[1] });
  }));
}
function series() { return { t: [], v: {} }; }
function push(hist, at, values) {
  hist.t.push(at);
  for (var key in values) { (hist.v[key] = hist.v[key] || []).push(values[key]); }
  while (hist.t.length > HISTORY) { hist.t.shift(); for (var k in hist.v) hist.v[k].shift(); }
}

function build(snapshot) {
  var main = document.getElementById("pools");
  main.textContent = "";
  snapshot.pools.forEach(function (pool) {
    var name = pool.name;
    var poolFaults = state.hello.faults.filter(function (f) { return f.pool === name && !f.node; });
    var actions = el("span", { className: "pool-actions" }, poolFaults.map(faultButton));
    var card = el("section", { className: "pool", "data-pool": name }, [
      el("header", null, [
        el("h2", { text: name }),
        el("span", { className: "badge status", "data-role": "status", text: "..." }),
        el("span", { className: "what", text: WHAT[name] || "" }),
        actions
      ]),
      el("div", { className: "kpis", "data-role": "kpis" }),
      el("div", { className: "charts" }, [
        el("figure", null, [
          legend([["active", "active"], ["idle", "idle"], ["waiting", "waiting"], ["creating", "creating"], ["leases", "leases"]]),
          el("canvas", { "data-chart": "connections" })
        ]),
        el("figure", null, [
          legend([["p50", "acquire wait p50"], ["p99", "p99 (ms, last 5 s)"]]),
          el("canvas", { "data-chart": "wait" })
        ]),
        el("figure", null, [
          legend([["createfail", "create failures/s"], ["opfail", "failed operations/s"]]),
          el("canvas", { "data-chart": "failures" })
        ])
      ]),
      el("div", { className: "partitions", "data-role": "partitions" }),
      el("div", { className: "ops", "data-role": "ops" }),
      el("div", { className: "nodes" }, pool.nodes.map(function (node) { return buildNode(name, node); }))
    ]);
    main.appendChild(card);
    state.pools[name] = { card: card, conn: series(), wait: series(), failures: series(), last: null };
  });
  state.built = true;
}

function buildNode(poolName, node) {
  var key = poolName + "/" + node.id;
  var faults = state.hello.faults.filter(function (f) { return f.pool === poolName && f.node === node.id; });
  var box = el("div", { className: "node", "data-node": key }, [
    el("div", { className: "node-head" }, [
      el("b", { text: node.id }),
      el("span", { className: "endpoint", text: node.endpoint }),
      el("span", { className: "badge", "data-role": "peer" }),
      el("span", { className: "badge", "data-role": "circuit" }),
      el("span", { className: "badge", "data-role": "healthy" })
    ]),
    legend([["active", "active"], ["idle", "idle"], ["waiting", "waiting"], ["open", "open"], ["halfopen", "half-open"]]),
    el("canvas", { className: "small", "data-chart": "node" }),
    el("div", { className: "node-kpis", "data-role": "node-kpis" }),
    el("div", { className: "buttons" }, faults.map(faultButton))
  ]);
  state.nodes[key] = { box: box, hist: series() };
  return box;
}

function faultButton(fault) {
  var danger = fault.action !== "start";
  var button = el("button", { "data-fault": fault.id, "data-action": fault.action, className: danger ? "danger" : "", text: fault.label });
  button.addEventListener("click", function () {
    button.disabled = true;
    post("/api/fault", { id: fault.id }).then(function (result) {
      toast(result.ok ? result.message : "failed: " + result.error);
    }).finally(function () { button.disabled = false; });
  });
  return button;
}

function post(path, body) {
  return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    .then(function (response) { return response.json(); })
    .catch(function (error) { return { ok: false, error: String(error) }; });
}
var toastTimer;
function toast(text) {
  var node = document.getElementById("toast");
  node.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { node.textContent = ""; }, 6000);
}

function fmt(ms) { return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2); }
function kv(label, value) {
  var span = el("span");
  span.appendChild(document.createTextNode(label + " "));
  span.appendChild(el("b", { text: String(value) }));
  return span;
}
function fill(node, parts) {
  node.textContent = "";
  parts.forEach(function (part, index) {
    if (index > 0) node.appendChild(document.createTextNode("  \u00b7  "));
    node.appendChild(part);
  });
}
function setBadge(node, text, cls) { node.textContent = text; node.className = "badge " + cls; }

function update(snapshot) {
  if (!state.built) build(snapshot);
  var at = snapshot.at;
  var elapsed = state.lastOps ? (at - state.lastAt) / 1000 : 0;
  snapshot.activity.forEach(function (entry) {
    if (entry.kind === "fault" && entry.pool) {
      var list = state.faultTimes[entry.pool] = state.faultTimes[entry.pool] || [];
      if (list.indexOf(entry.at) === -1) list.push(entry.at);
    }
  });
  snapshot.pools.forEach(function (pool) {
    var view = state.pools[pool.name];
    if (!view) return;
    var s = pool.stats;
    var unhealthy = pool.nodes.filter(function (n) { return !n.healthy || n.circuit !== "closed"; }).length;
    var status = unhealthy === 0 ? ["healthy", "ok"] : unhealthy < pool.nodes.length ? ["degraded", "warn"] : ["down", "bad"];
    var badge = view.card.querySelector("[data-role=status]");
    setBadge(badge, status[0], status[1]);
    view.card.setAttribute("data-status", status[0]);
    fill(view.card.querySelector("[data-role=kpis]"), [
      kv("connections", s.total), kv("leases", s.leases), kv("waiting", s.waiting), kv("created", s.created),
      kv("destroyed", s.destroyed), kv("create failures", s.createFailures), kv("timeouts", s.timeouts),
      kv("wait p99 (all time)", fmt(s.waitMs.p99) + " ms"), kv("create p50", fmt(s.createMs.p50) + " ms")
    ]);
    push(view.conn, at, { active: s.active, idle: s.idle, waiting: s.waiting, creating: s.creating, leases: s.leases });
    push(view.wait, at, { p50: pool.recentWait.p50, p99: pool.recentWait.p99 });
    var opFailed = (OPS[pool.name] || []).reduce(function (sum, opName) {
      var op = snapshot.operations[opName];
      return sum + (op ? op.failed : 0);
    }, 0);
    var last = view.last, seconds = last ? (at - last.at) / 1000 : 0;
    push(view.failures, at, {
      createfail: seconds > 0 ? Math.max(0, s.createFailures - last.createFailures) / seconds : 0,
      opfail: seconds > 0 ? Math.max(0, opFailed - last.opFailed) / seconds : 0
    });
    view.last = { at: at, createFailures: s.createFailures, opFailed: opFailed };
    var marks = state.faultTimes[pool.name] || [];
    draw(view.card.querySelector("[data-chart=connections]"), view.conn, [["leases", "--leases"], ["active", "--active"], ["idle", "--idle"], ["waiting", "--waiting"], ["creating", "--creating"]], at, marks, "");
    draw(view.card.querySelector("[data-chart=wait]"), view.wait, [["p50", "--p50"], ["p99", "--p99"]], at, marks, " ms");
    draw(view.card.querySelector("[data-chart=failures]"), view.failures, [["createfail", "--createfail"], ["opfail", "--opfail"]], at, marks, "/s");

    var partitions = view.card.querySelector("[data-role=partitions]");
    partitions.textContent = "";
    Object.keys(s.partitions).forEach(function (name) {
      var p = s.partitions[name];
      var bar = el("div", { className: "bar" }, [el("div")]);
      bar.firstChild.style.width = Math.min(100, 100 * p.active / Math.max(1, p.max)) + "%";
      partitions.appendChild(el("div", { className: "partition", "data-partition": name }, [
        el("div", { text: "partition " + name + ": " + p.active + " / " + p.max + " active, " + p.waiting + " waiting" }), bar
      ]));
    });

    var ops = view.card.querySelector("[data-role=ops]");
    ops.textContent = "";
    (OPS[pool.name] || []).forEach(function (opName) {
      var op = snapshot.operations[opName];
      if (!op) return;
      var prev = state.lastOps && state.lastOps[opName];
      var okRate = prev && elapsed > 0 ? (op.ok - prev.ok) / elapsed : 0;
      var failRate = prev && elapsed > 0 ? (op.failed - prev.failed) / elapsed : 0;
      var line = el("div", { "data-op": opName });
      fill(line, [
        kv(opName, okRate.toFixed(1) + " ok/s"), kv("failed", failRate.toFixed(1) + "/s"),
        kv("total ok", op.ok), kv("failed", op.failed), kv("latency p50", fmt(op.p50Ms) + " ms"), kv("p99", fmt(op.p99Ms) + " ms")
      ]);
      ops.appendChild(line);
      if (op.lastError && at - op.lastError.at < 10000) {
        ops.appendChild(el("div", { className: "err", text: "last error: " + op.lastError.code + ": " + op.lastError.message }));
      }
    });

    pool.nodes.forEach(function (node) {
      var nodeView = state.nodes[pool.name + "/" + node.id];
      if (!nodeView) return;
      var box = nodeView.box;
      box.setAttribute("data-running", String(node.running));
      box.setAttribute("data-circuit", node.circuit);
      box.setAttribute("data-healthy", String(node.healthy));
      var peer = box.querySelector("[data-role=peer]");
      if (!node.embedded) setBadge(peer, "external", "off");
      else if (node.running) setBadge(peer, "server up", "ok");
      else setBadge(peer, "server stopped", "bad");
      setBadge(box.querySelector("[data-role=circuit]"), "circuit " + node.circuit,
        node.circuit === "closed" ? "ok" : node.circuit === "open" ? "bad" : "warn");
      setBadge(box.querySelector("[data-role=healthy]"), node.healthy ? "healthy" : "unhealthy", node.healthy ? "ok" : "bad");
      fill(box.querySelector("[data-role=node-kpis]"), [
        kv("total", node.total), kv("idle", node.idle), kv("active", node.active), kv("creating", node.creating), kv("waiting", node.waiting)
      ]);
      box.querySelectorAll("button[data-action=stop]").forEach(function (b) { b.disabled = !node.running; });
      box.querySelectorAll("button[data-action=start]").forEach(function (b) { b.disabled = node.running; });
      push(nodeView.hist, at, { active: node.active, idle: node.idle, waiting: node.waiting,
        circuit: node.circuit === "open" ? 2 : node.circuit === "half-open" ? 1 : 0 });
      draw(box.querySelector("canvas"), nodeView.hist, [["active", "--active"], ["idle", "--idle"], ["waiting", "--waiting"]], at, [], "", "circuit");
    });
  });

  var list = document.getElementById("activity");
  list.textContent = "";
  snapshot.activity.slice().reverse().forEach(function (entry) {
    var time = new Date(entry.at).toTimeString().slice(0, 8);
    var where = entry.pool ? entry.pool + (entry.node ? "/" + entry.node : "") + " " : "";
    list.appendChild(el("li", { className: "k-" + entry.kind, text: time + "  " + where + entry.message }));
  });

  var rate = document.getElementById("rate");
  if (Date.now() - state.rateTouched > 2000 && document.activeElement !== rate) {
    rate.value = String(snapshot.rate);
    document.getElementById("rate-value").textContent = String(snapshot.rate);
  }
  state.lastOps = snapshot.operations;
  state.lastAt = at;
  state.updates += 1;
  document.body.setAttribute("data-updates", String(state.updates));
}

var css = getComputedStyle(document.documentElement);
var BAND = { 1: "#fdefc8", 2: "#fbd5d5" };
function draw(canvas, hist, lines, now, marks, unit, band) {
  var ratio = window.devicePixelRatio || 1;
  var width = canvas.clientWidth, height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  var ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  var max = 1;
  lines.forEach(function (line) { (hist.v[line[0]] || []).forEach(function (v) { if (v > max) max = v; }); });
  max = niceMax(max);
  var top = 6, bottom = height - 4, left = 2, right = width - 44;
  var x = function (t) { return right - (now - t) / WINDOW_MS * (right - left); };
  var y = function (v) { return bottom - v / max * (bottom - top); };
  if (band) {
    // Background bands: where the node's circuit was open (red) or half-open (amber).
    var codes = hist.v[band] || [];
    for (var b = 0; b < codes.length; b++) {
      if (!codes[b]) continue;
      var x0 = x(hist.t[b]), x1 = b + 1 < codes.length ? x(hist.t[b + 1]) : right;
      ctx.fillStyle = BAND[codes[b]];
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), bottom - top);
    }
  }
  ctx.strokeStyle = "#e6e8ec"; ctx.lineWidth = 1; ctx.fillStyle = "#8a93a3"; ctx.font = "10px system-ui, sans-serif";
  [0, 0.5, 1].forEach(function (f) {
    var yy = Math.round(y(max * f)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(right, yy); ctx.stroke();
    ctx.fillText(trim(max * f) + unit, right + 4, Math.min(bottom, Math.max(top + 6, yy + 3)));
  });
  ctx.strokeStyle = "#94a3b8"; ctx.setLineDash([3, 3]);
  marks.forEach(function (t) {
    if (now - t > WINDOW_MS) return;
    var xx = Math.round(x(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(xx, top); ctx.lineTo(xx, bottom); ctx.stroke();
  });
  ctx.setLineDash([]);
  lines.forEach(function (line) {
    var values = hist.v[line[0]] || [];
    if (values.length === 0) return;
    ctx.strokeStyle = css.getPropertyValue(line[1]).trim() || "#333";
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (var i = 0; i < values.length; i++) {
      var px = x(hist.t[i]), py = y(values[i]);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  });
}
function niceMax(v) {
  var steps = [1, 2, 4, 5, 8, 10, 15, 20, 25, 40, 50, 80, 100, 150, 200, 250, 400, 500, 800, 1000, 2000, 5000, 10000];
  for (var i = 0; i < steps.length; i++) if (v <= steps[i]) return steps[i];
  return Math.ceil(v / 10000) * 10000;
}
function trim(v) { return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, ""); }

var rateInput = document.getElementById("rate");
rateInput.addEventListener("input", function () {
  state.rateTouched = Date.now();
  document.getElementById("rate-value").textContent = rateInput.value;
});
rateInput.addEventListener("change", function () {
  state.rateTouched = Date.now();
  post("/api/load", { rate: Number(rateInput.value) }).then(function (result) {
    toast(result.error ? "failed: " + result.error : "load: " + result.rate + " ops/s per operation");
  });
});

function connect() {
  var source = new EventSource("/events");
  var conn = document.getElementById("conn");
  source.addEventListener("hello", function (event) {
    state.hello = JSON.parse(event.data);
    state.built = false;
    setBadge(conn, "live", "ok");
  });
  source.onmessage = function (event) {
    if (!state.hello) return;
    update(JSON.parse(event.data));
  };
  source.onerror = function () { setBadge(conn, "disconnected: retrying", "bad"); };
  source.onopen = function () { setBadge(conn, "live", "ok"); };
}
connect();
`;
