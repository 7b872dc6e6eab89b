/* sqlrl report: renders the JSON in #sqlrl-data. Text from the data is only ever set as text
   (textContent, createTextNode, attribute values), never parsed as HTML. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("sqlrl-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#bf3989", "#6e7781"];
  var PAGE = 200;

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node) {
    for (var i = 1; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid === undefined || kid === null || kid === false) continue;
      if (Array.isArray(kid)) kid.forEach(function (k) { add(node, k); });
      else node.appendChild(typeof kid === "object" ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }
  function sv(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    return node;
  }
  function pct(x) { return typeof x === "number" ? (100 * x).toFixed(1) : ""; }
  function cell(v) {
    if (v === null || v === undefined) return {t: "NULL", c: "null"};
    if (typeof v === "object") return {t: v.float !== undefined ? v.float : v.bytes !== undefined ? "x'" + v.bytes + "'" : JSON.stringify(v), c: ""};
    return {t: String(v), c: ""};
  }

  var main = document.getElementById("main");
  document.getElementById("title").textContent = D.title;
  document.getElementById("source").textContent = D.source || "";

  function metaList(obj) {
    var box = el("div", {class: "meta"});
    Object.keys(obj || {}).forEach(function (k) { add(box, el("span", null, el("b", {text: k + ": "}), String(obj[k]))); });
    return box;
  }
  function notes(obj) {
    var keys = Object.keys(obj || {});
    if (!keys.length) return null;
    return el("div", {class: "notes"}, keys.map(function (k) { return el("div", null, el("b", {text: k.replace(/_/g, " ") + ": "}), String(obj[k])); }));
  }

  /* ---------- charts ---------- */
  function barChart(groups, metrics, summary) {
    var W = Math.max(360, 70 + groups.length * (40 + 26 * metrics.length)), H = 240, L = 40, B = 40, T = 24;
    var svg = sv("svg", {width: W, height: H, class: "chart", role: "img", "aria-label": "accuracy by level"});
    var ih = H - B - T, gw = (W - L - 10) / groups.length, bw = Math.min(26, (gw - 14) / Math.max(1, metrics.length));
    [0, 25, 50, 75, 100].forEach(function (y) {
      var yy = T + ih - ih * y / 100;
      svg.appendChild(sv("line", {x1: L, x2: W - 6, y1: yy, y2: yy, class: "grid"}));
      svg.appendChild(sv("text", {x: L - 4, y: yy + 4, "text-anchor": "end", text: y}));
    });
    groups.forEach(function (g, gi) {
      var x0 = L + gi * gw + (gw - bw * metrics.length) / 2;
      metrics.forEach(function (m, mi) {
        var v = (summary[g] || {})[m] || 0, h = ih * v;
        var r = sv("rect", {x: x0 + mi * bw, y: T + ih - h, width: bw - 2, height: h, fill: COLORS[mi % COLORS.length]});
        r.appendChild(sv("title", {text: m + " " + g + ": " + pct(v)}));
        svg.appendChild(r);
        svg.appendChild(sv("text", {x: x0 + mi * bw + bw / 2 - 1, y: T + ih - h - 3, "text-anchor": "middle", text: pct(v)}));
      });
      var n = (summary[g] || {}).count;
      svg.appendChild(sv("text", {x: L + gi * gw + gw / 2, y: H - B + 15, "text-anchor": "middle", text: g}));
      svg.appendChild(sv("text", {x: L + gi * gw + gw / 2, y: H - B + 28, "text-anchor": "middle", text: "n=" + (n === undefined ? "?" : n)}));
    });
    svg.appendChild(sv("line", {x1: L, x2: L, y1: T, y2: T + ih, class: "axis"}));
    metrics.forEach(function (m, mi) {
      svg.appendChild(sv("rect", {x: L + 8 + mi * 110, y: 6, width: 10, height: 10, fill: COLORS[mi % COLORS.length]}));
      svg.appendChild(sv("text", {x: L + 22 + mi * 110, y: 15, text: m}));
    });
    return svg;
  }

  function lineChart(title, series, opts) {
    opts = opts || {};
    var W = 460, L = 46, R = 10, T = 26, B = 30 + 14 * Math.ceil(series.length / 3), H = 210 + B;
    var svg = sv("svg", {width: W, height: H, class: "chart", role: "img", "aria-label": title});
    svg.appendChild(sv("text", {x: L, y: 14, text: title, "font-weight": "600"}));
    var pts = [];
    series.forEach(function (s) { pts = pts.concat(s.pts); });
    if (!pts.length) { svg.appendChild(sv("text", {x: L, y: H / 2, text: "nothing logged"})); return svg; }
    var xs = pts.map(function (p) { return p[0]; }), ys = pts.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = opts.y0 !== undefined ? opts.y0 : Math.min.apply(null, ys), y1 = opts.y1 !== undefined ? opts.y1 : Math.max.apply(null, ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y1 = y0 + 1; }
    var iw = W - L - R, ih = H - T - B;
    function X(x) { return L + iw * (x - x0) / (x1 - x0); }
    function Y(y) { return T + ih - ih * (y - y0) / (y1 - y0); }
    for (var k = 0; k <= 4; k++) {
      var yv = y0 + (y1 - y0) * k / 4;
      svg.appendChild(sv("line", {x1: L, x2: W - R, y1: Y(yv), y2: Y(yv), class: "grid"}));
      svg.appendChild(sv("text", {x: L - 4, y: Y(yv) + 4, "text-anchor": "end", text: Math.abs(yv) >= 100 ? yv.toFixed(0) : yv.toFixed(2)}));
    }
    svg.appendChild(sv("text", {x: L, y: T + ih + 14, text: String(x0)}));
    svg.appendChild(sv("text", {x: W - R, y: T + ih + 14, "text-anchor": "end", text: String(x1) + " (step)"}));
    (opts.bounds || []).forEach(function (b) {
      if (b.x <= x0) return;
      svg.appendChild(sv("line", {x1: X(b.x), x2: X(b.x), y1: T, y2: T + ih, stroke: "#8c959f", "stroke-dasharray": "3,3"}));
      svg.appendChild(sv("text", {x: X(b.x) + 3, y: T + 10, text: b.name, fill: "#57606a"}));
    });
    series.forEach(function (s, i) {
      var c = s.color || COLORS[i % COLORS.length];
      var d = s.pts.map(function (p, j) { return (j ? "L" : "M") + X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1); }).join("");
      var path = sv("path", {d: d, fill: "none", stroke: c, "stroke-width": s.width || 1.5});
      path.appendChild(sv("title", {text: s.name}));
      svg.appendChild(path);
      if (opts.markers) s.pts.forEach(function (p) {
        var m = sv("circle", {cx: X(p[0]), cy: Y(p[1]), r: 3, fill: c});
        m.appendChild(sv("title", {text: s.name + " step " + p[0] + ": " + p[1]}));
        svg.appendChild(m);
      });
      svg.appendChild(sv("rect", {x: L + (i % 3) * 140, y: T + ih + 22 + 14 * Math.floor(i / 3), width: 9, height: 9, fill: c}));
      svg.appendChild(sv("text", {x: L + 12 + (i % 3) * 140, y: T + ih + 30 + 14 * Math.floor(i / 3), text: s.name}));
    });
    (opts.stars || []).forEach(function (p) {
      var st = sv("text", {x: X(p[0]), y: Y(p[1]) + 6, "text-anchor": "middle", "font-size": "20", fill: "#d4a72c", class: "best", text: "\u2605"});
      st.appendChild(sv("title", {text: p[2]}));
      svg.appendChild(st);
    });
    return svg;
  }

  /* ---------- SQL token diff ---------- */
  var TOK = /\s+|'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?|[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|<>|!=|<=|>=|\|\||\S/gi;
  function tokens(s) { return (s || "").match(TOK) || []; }
  function norm(t) { return /^['"`]/.test(t) ? t : t.toLowerCase(); }
  function tokenDiff(a, b) {
    var ta = tokens(a), tb = tokens(b);
    var ia = [], ib = [];
    ta.forEach(function (t, i) { if (!/^\s+$/.test(t)) ia.push(i); });
    tb.forEach(function (t, i) { if (!/^\s+$/.test(t)) ib.push(i); });
    var n = ia.length, m = ib.length, keepA = {}, keepB = {};
    if (n * m <= 400000) {
      var dp = [], i, j;
      for (i = 0; i <= n; i++) dp.push(new Int32Array(m + 1));
      for (i = n - 1; i >= 0; i--) for (j = m - 1; j >= 0; j--)
        dp[i][j] = norm(ta[ia[i]]) === norm(tb[ib[j]]) ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
      i = 0; j = 0;
      while (i < n && j < m) {
        if (norm(ta[ia[i]]) === norm(tb[ib[j]])) { keepA[ia[i]] = keepB[ib[j]] = 1; i++; j++; }
        else if (dp[i + 1][j] >= dp[i][j + 1]) i++; else j++;
      }
    } else { ia.forEach(function (k) { keepA[k] = 1; }); ib.forEach(function (k) { keepB[k] = 1; }); }
    function render(ts, keep, cls) {
      var pre = el("pre", {class: "sql"});
      ts.forEach(function (t, k) { add(pre, /^\s+$/.test(t) || keep[k] ? t : el("span", {class: cls, text: t})); });
      return pre;
    }
    return [render(ta, keepA, "del"), render(tb, keepB, "ins")];
  }

  /* ---------- result tables ---------- */
  function resultTable(side, t, what) {
    var box = el("div");
    add(box, el("div", null, el("b", {text: what}), " ", el("span", {class: "muted", text:
      t.num_rows + " row" + (t.num_rows === 1 ? "" : "s") + (t.rows.length < t.num_rows ? ", first " + t.rows.length + " shown" : "") +
      (t.truncated ? ", truncated by the row cap" : "")})));
    var tab = el("table", {class: "res"}), head = el("tr");
    var cols = t.cols || [];
    t.columns.forEach(function (c, j) {
      var bad = side === "gold" ? cols[j] === false : cols[j] === -1;
      add(head, el("th", {class: bad ? "badcol" : null, title: bad ? (side === "gold" ? "no predicted column matches" : "matches no gold column") : null, text: c}));
    });
    add(tab, el("thead", null, head));
    var body = el("tbody");
    t.rows.forEach(function (row, r) {
      var mark = t.marks ? t.marks[r] : 0;
      var tr = el("tr", {class: mark === 1 ? (side === "gold" ? "missing" : "extra") : null,
                         title: mark === 1 ? (side === "gold" ? "missing from the prediction" : "not in the gold") : null});
      row.forEach(function (v, j) {
        var c = cell(v), cls = c.c;
        if (Array.isArray(mark) && mark.indexOf(j) >= 0) cls += " diff";
        add(tr, el("td", {class: cls || null, text: c.t}));
      });
      add(body, tr);
    });
    add(tab, body);
    return add(box, tab);
  }

  function detail(ex) {
    var box = el("div");
    if (ex.q) add(box, el("p", null, el("b", {text: "Question: "}), ex.q));
    if (ex.evidence) add(box, el("p", {class: "muted"}, el("b", {text: "Evidence: "}), ex.evidence));
    if (ex.err) add(box, el("p", {class: "v-error"}, el("b", {text: (ex.ek || "error") + ": "}), ex.err));
    var diff = tokenDiff(ex.gold, ex.pred);
    add(box, el("div", {class: "sides"},
      el("div", null, el("b", {text: "gold SQL"}), diff[0]),
      el("div", null, el("b", {text: "predicted SQL"}), diff[1])));
    if (ex.res) {
      var r = ex.res, how = "compared as " + (r.mode || "?");
      if (r.mode === "spider") how += r.order_matters ? ", rows in order (the gold has ORDER BY)" : ", rows as a bag, columns in any order";
      if (r.mode === "bird") how += ", rows as sets, columns in order";
      if (r.mode === "spider2") how += ", column vectors" + (r.ignore_order ? " sorted" : "");
      if (r.mode === "paverl") how += ", sorted column vectors, one to one";
      if (r.database) how += "; on " + r.database;
      add(box, el("div", {class: "legend"}, how + ". ",
        el("span", {class: "muted", text: "marks:"}), el("span", {style: "background:var(--del)", text: "missing / extra row"}),
        el("span", {style: "background:var(--chg)", text: "differing cell"})));
      if (r.partial) add(box, el("div", {class: "notes", text: "Only the first rows were kept: the marks compare the rows shown, the verdict compared every row."}));
      add(box, el("div", {class: "sides"},
        r.gold ? el("div", null, resultTable("gold", r.gold, "gold result")) : el("div", {class: "muted", text: "no gold result"}),
        r.pred ? el("div", null, resultTable("pred", r.pred, "predicted result")) : el("div", {class: "muted", text: "no predicted result"})));
    }
    if (ex.comp) {
      var ct = el("table", null, el("tr", null, ["component", "gold", "pred", "matched", "score"].map(function (h) { return el("th", {text: h}); })));
      Object.keys(ex.comp).forEach(function (k) {
        var c = ex.comp[k], ok = c[0] === c[1] && c[1] === c[2];
        if (!c[0] && !c[1]) return;
        add(ct, el("tr", null, el("td", {text: k}), el("td", {class: "num", text: c[0]}), el("td", {class: "num", text: c[1]}),
          el("td", {class: "num", text: c[2]}), el("td", {class: ok ? "v-right" : "v-wrong", text: ok ? "1" : "0"})));
      });
      add(box, el("h3", {text: "Spider components (exact match: " + (ex.m["exact match"] === 1 ? "yes" : "no") + ")"}), ct);
    }
    if (ex.dbs && Object.keys(ex.dbs).length) {
      var names = Object.keys(ex.dbs);
      add(box, el("p", null, el("b", {text: "Verdict per database (the official loop stops at the first failure): "}),
        names.map(function (n) { return el("span", {class: "tag " + (ex.dbs[n] ? "v-right" : "v-wrong"), text: n + " " + (ex.dbs[n] ? "\u2713" : "\u2717")}); })));
    }
    if (ex.x) add(box, metaList(ex.x));
    if (ex.completion) add(box, el("details", null, el("summary", {text: "model completion"}), el("pre", {class: "sql", text: ex.completion})));
    if (ex.cands) {
      var cl = el("ol");
      ex.cands.forEach(function (c) { add(cl, el("li", null, el("span", {class: c.ok ? "v-right" : "v-error", text: c.ok ? "ran " : "failed "}), c.cluster !== null && c.cluster !== undefined ? "cluster " + c.cluster + " " : "", el("code", {text: c.sql}))); });
      add(box, el("details", null, el("summary", {text: ex.cands.length + " candidates"}), cl));
    }
    if (ex.b) {
      add(box, el("h3", {text: "Baseline: " + ex.b.v + (ex.chg ? " (" + ex.chg + ")" : "")}));
      var bd = tokenDiff(ex.b.pred, ex.pred);
      add(box, el("div", {class: "sides"}, el("div", null, el("b", {text: "baseline prediction"}), bd[0]), el("div", null, el("b", {text: "this prediction"}), bd[1])));
    }
    return box;
  }

  /* ---------- eval page ---------- */
  function evalPage() {
    var groups = D.groups, metrics = D.metrics, summary = D.summary, exs = D.examples;
    add(main, metaList(D.meta), notes(D.notes));
    var head = el("table", {id: "headline"}), tr = el("tr", null, el("th"));
    groups.forEach(function (g) { add(tr, el("th", {class: "num", text: g})); });
    add(head, tr);
    add(head, el("tr", null, el("td", {text: "count"}), groups.map(function (g) { return el("td", {class: "num", text: (summary[g] || {}).count === undefined ? "" : (summary[g] || {}).count }); })));
    metrics.forEach(function (m) {
      add(head, el("tr", null, el("td", {text: m}), groups.map(function (g) { return el("td", {class: "num", text: pct((summary[g] || {})[m])}); })));
      if (D.baseline && D.baseline.metrics.indexOf(m) >= 0) {
        add(head, el("tr", {class: "muted"}, el("td", {text: "\u0394 vs baseline"}), groups.map(function (g) {
          var a = (summary[g] || {})[m], b = (D.baseline.summary[g] || {})[m];
          return el("td", {class: "num", text: typeof a === "number" && typeof b === "number" ? (a - b >= 0 ? "+" : "") + (100 * (a - b)).toFixed(1) : ""});
        })));
      }
    });
    add(main, el("h2", {text: "Scores by level (%)"}), el("div", {class: "row"}, head, metrics.length ? barChart(groups, metrics, summary) : null));
    if (D.partial) {
      var pt = el("table", null, el("tr", null, el("th", {text: "component F1"}), groups.map(function (g) { return el("th", {class: "num", text: g}); })));
      Object.keys(D.partial.all || {}).forEach(function (c) {
        add(pt, el("tr", null, el("td", {text: c}), groups.map(function (g) { return el("td", {class: "num", text: pct(((D.partial[g] || {})[c] || {}).f1)}); })));
      });
      add(main, el("details", null, el("summary", {text: "Spider partial matching (component F1 by hardness)"}), pt));
    }
    var errs = Object.keys(D.errors || {});
    if (errs.length) add(main, el("p", null, el("b", {text: "Errors: "}), errs.map(function (k) { return el("span", {class: "tag", text: k + " " + D.errors[k]}); })));
    if (D.baseline) {
      add(main, el("h2", {text: "Against the baseline"}), el("p", {class: "muted", text: D.baseline.source}),
        el("p", null, Object.keys(D.baseline.counts).map(function (k) {
          return el("button", {class: "tag chg-" + k.split(" ")[0], "data-change": k, onclick: function () { fChange.value = k; apply(); }, text: k + ": " + D.baseline.counts[k]});
        })));
    }

    /* filters */
    function options(values, all) {
      var s = el("select", null, el("option", {value: "", text: all}));
      values.forEach(function (v) { add(s, el("option", {value: v, text: v})); });
      return s;
    }
    function uniq(f) { var seen = {}; exs.forEach(function (e) { var v = f(e); if (v !== "" && v !== undefined) seen[v] = 1; }); return Object.keys(seen).sort(); }
    var fText = el("input", {type: "search", id: "f-text", placeholder: "search question, SQL, database, error"});
    var fDb = options(uniq(function (e) { return e.db; }), "all databases"); fDb.id = "f-db";
    var fGroup = options(groups.filter(function (g) { return g !== "all"; }), "all levels"); fGroup.id = "f-group";
    var fVerdict = options(uniq(function (e) { return e.v; }), "any verdict"); fVerdict.id = "f-verdict";
    var fErr = options(uniq(function (e) { return e.ek; }), "any error kind"); fErr.id = "f-error";
    var compNames = exs.length && exs[0].comp ? Object.keys(exs[0].comp) : [];
    var fComp = options(compNames, "any component"); fComp.id = "f-comp";
    var fChange = options(D.baseline ? Object.keys(D.baseline.counts) : [], "any change"); fChange.id = "f-change";
    var count = el("span", {id: "count", class: "muted"});
    var bar = el("div", {class: "filters"}, fText, fDb, fGroup, fVerdict, fErr, compNames.length ? [el("span", {class: "muted", text: "wrong:"}), fComp] : null, D.baseline ? fChange : null, count);
    add(main, el("h2", {text: "Examples"}), bar);

    var cols = [["#", function (e) { return e.i; }], ["database", function (e) { return e.db; }], ["level", function (e) { return e.g; }],
      ["verdict", function (e) { return e.v; }]];
    metrics.forEach(function (m) { cols.push([m, function (e) { return e.m[m] === undefined ? -1 : e.m[m]; }]); });
    cols.push(["error", function (e) { return e.ek; }]);
    if (D.baseline) cols.push(["change", function (e) { return e.chg || ""; }]);
    cols.push([exs.some(function (e) { return e.q; }) ? "question / predicted SQL" : "predicted SQL", function (e) { return e.q || e.pred; }]);
    var sortCol = 0, sortDir = 1;
    var table = el("table", {id: "list"}), thead = el("tr");
    cols.forEach(function (c, k) {
      add(thead, el("th", {"data-col": c[0], onclick: function () { if (sortCol === k) sortDir = -sortDir; else { sortCol = k; sortDir = 1; } apply(); }, text: c[0]}));
    });
    var tbody = el("tbody");
    add(table, el("thead", null, thead), tbody);
    var more = el("button", {id: "more", onclick: function () { render(shown + PAGE); }, text: "show more"});
    add(main, table, more);

    var hay = null, matches = [], shown = 0;
    function haystack() {
      if (!hay) hay = exs.map(function (e) { return [e.q || "", e.gold, e.pred, e.db, e.err, e.ek, e.x ? JSON.stringify(e.x) : ""].join("\n").toLowerCase(); });
      return hay;
    }
    function apply() {
      var q = fText.value.trim().toLowerCase(), h = q ? haystack() : null;
      var db = fDb.value, g = fGroup.value, v = fVerdict.value, ek = fErr.value, comp = fComp.value, chg = fChange.value;
      matches = [];
      for (var k = 0; k < exs.length; k++) {
        var e = exs[k];
        if (db && e.db !== db) continue;
        if (g && e.g !== g) continue;
        if (v && e.v !== v) continue;
        if (ek && e.ek !== ek) continue;
        if (comp) { var c = e.comp && e.comp[comp]; if (!c || (c[0] === c[1] && c[1] === c[2])) continue; }
        if (chg) { var kind = e.chg || (e.b ? (e.v === "right" ? "both right" : "both wrong") : "not in baseline"); if (kind !== chg) continue; }
        if (q && h[k].indexOf(q) < 0) continue;
        matches.push(k);
      }
      var key = cols[sortCol][1];
      matches.sort(function (a, b) { var x = key(exs[a]), y = key(exs[b]); return (x < y ? -1 : x > y ? 1 : a - b) * sortDir; });
      Array.prototype.forEach.call(thead.children, function (th, k) { th.className = k === sortCol ? (sortDir > 0 ? "sorted-asc" : "sorted-desc") : ""; });
      count.textContent = matches.length + " of " + exs.length + " examples";
      tbody.textContent = "";
      shown = 0;
      render(PAGE);
    }
    function row(k) {
      var e = exs[k];
      var tr = el("tr", {class: "ex", "data-index": e.i});
      add(tr, el("td", {class: "num", text: e.i}), el("td", {text: e.db}), el("td", {text: e.g}), el("td", {class: "v-" + e.v, text: e.v}));
      metrics.forEach(function (m) { add(tr, el("td", {class: "num", text: e.m[m] === undefined ? "" : +e.m[m].toFixed(3)})); });
      add(tr, el("td", {text: e.ek}));
      if (D.baseline) add(tr, el("td", {class: "chg-" + (e.chg || ""), text: e.chg || ""}));
      add(tr, el("td", {class: "sql", title: e.q ? e.pred : null, text: e.q || e.pred}));
      tr.addEventListener("click", function () {
        var next = tr.nextSibling;
        if (next && next.classList.contains("detail")) { next.remove(); return; }
        var d = el("tr", {class: "detail"}, el("td", {colspan: cols.length}, detail(e)));
        tr.parentNode.insertBefore(d, tr.nextSibling);
      });
      return tr;
    }
    function render(upto) {
      var frag = document.createDocumentFragment();
      for (var k = shown; k < Math.min(upto, matches.length); k++) frag.appendChild(row(matches[k]));
      tbody.appendChild(frag);
      shown = Math.min(upto, matches.length);
      more.style.display = shown < matches.length ? "" : "none";
      more.textContent = "show more (" + (matches.length - shown) + " left)";
    }
    [fDb, fGroup, fVerdict, fErr, fComp, fChange].forEach(function (s) { s.addEventListener("change", apply); });
    var timer = null;
    fText.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
    apply();
  }

  /* ---------- training page ---------- */
  function trainPage() {
    var phases = D.phases, grpo = phases.filter(function (p) { return p.rewards; });
    if (D.data) add(main, metaList(typeof D.data === "object" ? D.data : {data: D.data}));
    var splits = [];
    phases.forEach(function (p) { Object.keys(p.evals || {}).forEach(function (s) { if (splits.indexOf(s) < 0) splits.push(s); }); });
    var t = el("table", {id: "phases"}, el("tr", null, el("th", {text: "phase"}), el("th", {text: "minutes"}),
      splits.map(function (s) { return el("th", {class: "num", text: "EX " + s}); }), el("th", {text: "best checkpoint (validation EX)"})));
    phases.forEach(function (p) {
      add(t, el("tr", null, el("td", {text: p.name}), el("td", {class: "num", text: p.seconds ? (p.seconds / 60).toFixed(1) : ""}),
        splits.map(function (s) { var r = (p.evals || {})[s]; return el("td", {class: "num", text: r ? pct(r.accuracy) : ""}); }),
        el("td", {text: p.best ? "step " + p.best.step + " (" + pct(p.best.accuracy) + ")" : ""})));
    });
    add(main, el("h2", {text: "Phases"}), t);
    var bounds = grpo.map(function (p) { return {x: p.offset, name: p.name}; });
    var names = [];
    grpo.forEach(function (p) { Object.keys(p.rewards).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); }); });
    var rewardSeries = names.map(function (n) { return {name: n, pts: [].concat.apply([], grpo.map(function (p) { return p.rewards[n] || []; }))}; });
    rewardSeries.push({name: "total (weighted)", color: "#1f2328", width: 2.2, pts: [].concat.apply([], grpo.map(function (p) { return p.total; }))});
    var stars = grpo.filter(function (p) { return p.best; }).map(function (p) { return [p.best.x, p.best.accuracy, "best " + p.name + ": step " + p.best.step]; });
    var charts = el("div", {class: "row"},
      lineChart("reward per function (mean per step)", rewardSeries, {bounds: bounds}),
      lineChart("validation EX (star: best checkpoint)", grpo.map(function (p) { return {name: p.name, pts: p.val}; }), {markers: true, y0: 0, y1: 1, bounds: bounds, stars: stars}),
      lineChart("zero-variance groups (share)", [{name: "share", pts: [].concat.apply([], grpo.map(function (p) { return p.zero_variance; }))}], {y0: 0, y1: 1, bounds: bounds}),
      lineChart("completion length (mean tokens)", [{name: "length", pts: [].concat.apply([], grpo.map(function (p) { return p.length; }))}], {bounds: bounds}));
    add(main, el("h2", {text: "GRPO"}), grpo.length ? charts : el("p", {class: "muted", text: "no GRPO stage logged"}));
    function samples(title, list, n) {
      var right = list.filter(function (x) { return x.correct; }).length;
      var box = el("details", {class: "samples"}, el("summary", {text: title + ": " + list.length + " of " + n + " shown, " + right + " of them right"}));
      list.forEach(function (x) {
        add(box, el("div", {class: "sample"}, el("div", null, el("span", {class: x.correct ? "v-right" : "v-wrong", text: x.correct ? "right (reward 1)" : "wrong (reward 0)"}), " ", el("span", {class: "muted", text: x.db}), " ", x.q),
          el("div", {class: "sides"}, el("div", null, el("b", {text: "gold"}), el("pre", {class: "sql", text: x.gold})), el("div", null, el("b", {text: "completion"}), el("pre", {class: "sql", text: x.completion})))));
      });
      return box;
    }
    var withVal = grpo.filter(function (p) { return p.val_samples && p.val_samples.length; });
    if (withVal.length) {
      add(main, el("h2", {text: "Validation completions at each evaluation step"}),
        el("p", {class: "muted", text: "Greedy completions of the validation questions at every saved checkpoint, with their execution reward."}));
      withVal.forEach(function (p) {
        p.val_samples.forEach(function (v) { add(main, samples(p.name + " step " + v.step + " (EX " + pct(v.n ? v.right / v.n : 0) + ")", v.samples, v.n)); });
      });
    }
    add(main, el("h2", {text: "Completions after each phase"}),
      el("p", {class: "muted", text: "The first greedy completions of the eval after each phase, with their execution reward."}));
    phases.forEach(function (p) {
      Object.keys(p.samples || {}).forEach(function (s) { add(main, samples(p.name + " on " + s, p.samples[s], p.sample_counts[s])); });
    });
  }

  if (D.kind === "train") trainPage(); else evalPage();
  document.body.setAttribute("data-ready", "1");
})();
