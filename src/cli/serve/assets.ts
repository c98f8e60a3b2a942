/**
 * The web app's only assets, a style sheet and a small script, kept as strings so that `tsc` (the whole build)
 * carries them into dist/ and the server needs no file and no network at run time. The script is plain ES2020 with
 * no dependency: the archive filter, the diff filter, and the folder browser (lazy folders fetched a page at a time,
 * a virtualised list that renders only the rows in view, so a folder of 100 000 entries opens at once).
 */

export const STYLE = `
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --card: #fff; --accent: #2f6fdf; --add: #1a7f37; --del: #c4302b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #17202f; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; }
header nav a { color: #c9d4e6; text-decoration: none; margin-right: 16px; }
header nav a.on, header nav a:hover { color: #fff; }
header .repo { margin-left: auto; color: #9fb0c8; font-size: 12px; }
main { padding: 18px 24px 40px; max-width: 1280px; }
h1 { font-size: 20px; margin: 4px 0 14px; }
h2 { font-size: 15px; margin: 20px 0 8px; }
a { color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.path { white-space: normal; word-break: break-all; }
tr:hover td { background: #f3f6fb; }
.muted { color: var(--muted); }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; background: #eef2f8; color: #344054; font-size: 12px; margin-right: 4px; }
.tag.warn { background: #fff4e5; color: #8a4b00; }
.add { color: var(--add); } .del { color: var(--del); }
input[type=search], input[type=text], select { font: inherit; padding: 6px 9px; border: 1px solid #cfd4dc; border-radius: 6px; background: #fff; }
input[type=search] { width: 320px; }
button, .button { font: inherit; padding: 6px 12px; border: 1px solid #cfd4dc; border-radius: 6px; background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.toolbar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.crumbs { font-size: 15px; margin-bottom: 10px; word-break: break-all; }
.crumbs a { text-decoration: none; }
.vhead, .row { display: grid; grid-template-columns: minmax(200px, 1fr) 110px 110px 150px 190px; gap: 10px; align-items: center; padding: 0 10px; }
.vhead { height: 30px; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; border-bottom: 1px solid var(--line); }
.vhead .num { text-align: right; }
.vlist { position: relative; height: calc(100vh - 250px); min-height: 260px; overflow-y: auto; contain: strict; }
.vlist .spacer { width: 1px; }
.row { position: absolute; left: 0; right: 0; height: 28px; border-bottom: 1px solid #f0f2f5; font-variant-numeric: tabular-nums; }
.row:hover { background: #f3f6fb; }
.row > * { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row .size { text-align: right; }
.row .mode, .row .owner { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.row a { text-decoration: none; }
.row a::before { content: ""; display: inline-block; width: 12px; height: 14px; margin-right: 8px; vertical-align: -2px; border-radius: 2px; border: 1.5px solid #98a2b3; background: #fff; }
.row a.dir::before { width: 15px; height: 11px; vertical-align: -1px; border: none; background: #f2c14e; }
.row a.symlink::before { border-color: #7a5af8; border-style: dashed; }
.row a.other::before { border-radius: 50%; border-color: #667085; }
pre.preview { background: #fbfcfe; border: 1px solid var(--line); border-radius: 6px; padding: 10px; max-height: 70vh; overflow: auto; font-size: 12.5px; white-space: pre-wrap; word-break: break-all; }
img.preview { max-width: 100%; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: repeating-conic-gradient(#eee 0% 25%, #fff 0% 50%) 50% / 16px 16px; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.side pre { margin: 0; }
.side .changed { background: #fff3c4; display: block; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .bar { fill: #9ec0f5; } .chart .bar:hover { fill: var(--accent); }
.chart .line { fill: none; stroke: #17202f; stroke-width: 2; }
.chart .dot { fill: #17202f; }
.chart text { font-size: 11px; fill: var(--muted); }
.chart .grid { stroke: var(--line); }
.legend { font-size: 12px; color: var(--muted); }
.legend .sw { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; }
.sw.bars { background: #9ec0f5; } .sw.linec { background: #17202f; }
.error { background: #fff1f0; border-color: #f4c7c3; color: #8a1c16; }
`;

export const SCRIPT = `
(function () {
  'use strict';
  function filterRows(input, rows) {
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var hit = q === '' || (r.getAttribute('data-filter') || r.textContent).toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) shown++;
    });
    var out = document.getElementById(input.getAttribute('data-count'));
    if (out) out.textContent = String(shown);
  }
  document.querySelectorAll('input[data-filter-rows]').forEach(function (input) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(input.getAttribute('data-filter-rows')));
    input.addEventListener('input', function () { filterRows(input, rows); });
    if (input.value) filterRows(input, rows);
  });

  var root = document.getElementById('browser');
  if (!root) return;
  var ROW = 28, PAGE = 1000;
  var archive = root.getAttribute('data-archive');
  var path = root.getAttribute('data-path');
  var box = root.querySelector('.vlist');
  var spacer = box.querySelector('.spacer');
  var crumbs = document.getElementById('crumbs');
  var count = document.getElementById('count');
  var tar = document.getElementById('tar');
  var total = 0, pages = new Map(), loading = new Set(), generation = 0, frame = 0;

  function q(params) {
    return Object.keys(params).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }
  function load(page) {
    if (pages.has(page) || loading.has(page)) return;
    loading.add(page);
    var mine = generation;
    fetch('/api/list?' + q({ archive: archive, path: path, offset: page * PAGE, limit: PAGE }), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status + ' ' + r.statusText); return r.json(); })
      .then(function (data) {
        if (mine !== generation) return;
        loading.delete(page);
        total = data.total;
        pages.set(page, data.entries);
        count.textContent = data.total.toLocaleString();
        schedule();
      })
      .catch(function (e) { loading.delete(page); count.textContent = 'failed: ' + e.message; });
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(function () { frame = 0; render(); }); }
  function cell(tag, cls, text) { var e = document.createElement(tag); e.className = cls; e.textContent = text; return e; }
  function render() {
    spacer.style.height = (total * ROW) + 'px';
    var first = Math.max(0, Math.floor(box.scrollTop / ROW) - 15);
    var last = Math.min(total, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + 15);
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      var page = Math.floor(i / PAGE);
      var entries = pages.get(page);
      if (!entries) { load(page); continue; }
      var e = entries[i - page * PAGE];
      if (!e) continue;
      var row = document.createElement('div');
      row.className = 'row';
      row.style.top = (i * ROW) + 'px';
      var a = cell('a', e.type, e.name + (e.link ? ' → ' + e.link : ''));
      a.href = e.href;
      a.title = e.name;
      if (e.type === 'dir') a.setAttribute('data-path', e.path);
      row.appendChild(a);
      row.appendChild(cell('span', 'size', e.size));
      row.appendChild(cell('span', 'mode', e.mode));
      row.appendChild(cell('span', 'owner', e.owner));
      row.appendChild(cell('span', 'time', e.mtime));
      frag.appendChild(row);
    }
    box.querySelectorAll('.row').forEach(function (r) { r.remove(); });
    box.appendChild(frag);
    if (total === 0 && !pages.has(0)) load(0);
  }
  function setCrumbs() {
    crumbs.textContent = '';
    var parts = path === '' ? [] : path.split('/');
    var top = document.createElement('a');
    top.href = '/browse?' + q({ archive: archive, path: '' });
    top.setAttribute('data-path', '');
    top.textContent = archive;
    crumbs.appendChild(top);
    parts.forEach(function (p, i) {
      crumbs.appendChild(document.createTextNode(' / '));
      var a = document.createElement('a');
      var sub = parts.slice(0, i + 1).join('/');
      a.href = '/browse?' + q({ archive: archive, path: sub });
      a.setAttribute('data-path', sub);
      a.textContent = p;
      crumbs.appendChild(a);
    });
    tar.href = '/tar?' + q({ archive: archive, path: path });
  }
  function go(next, push) {
    path = next;
    generation++;
    pages = new Map();
    loading = new Set();
    total = 0;
    box.scrollTop = 0;
    count.textContent = '…';
    setCrumbs();
    if (push) history.pushState({ path: path }, '', '/browse?' + q({ archive: archive, path: path }));
    load(0);
    render();
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a[data-path]');
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    go(a.getAttribute('data-path'), true);
  });
  window.addEventListener('popstate', function () {
    go(new URLSearchParams(location.search).get('path') || '', false);
  });
  box.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);
  go(path, false);
})();
`;
