// The embedforge explorer's page: regl-scatterplot draws 2-D projections (WebGL),
// three.js draws 3-D ones as a rotatable point cloud (src/view3d.js, built into
// ../static/explorer3d.js and loaded only when a 3-D projection is shown), the server
// answers everything else (JSON under /api).  Built once with esbuild into ../static
// (`make explorer`); no Node.js at run time.
import createScatterplot from 'regl-scatterplot';

const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#e7969c', '#637939', '#8c6d31', '#843c39', '#7b4173',
  '#3182bd', '#e6550d', '#31a354', '#969696',
];
const CONTINUOUS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
const GREY = '#7f8c9a';
const MUTED = '#c3c9cf'; // keys without a value, and the merged rare categories

function categoryColours(categories) {
  let next = 0;
  return categories.map((c) => (c === '(none)' || c === '(other)' ? MUTED : PALETTE[next++ % PALETTE.length]));
}

const $ = (id) => document.getElementById(id);
const apiKey = new URLSearchParams(window.location.hash.slice(1)).get('key');

async function api(path, params = {}) {
  const url = new URL(path, window.location.href);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  const headers = apiKey ? { 'X-API-Key': apiKey } : {};
  const response = await fetch(url, { headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

const state = {
  info: null,
  keys: [],
  projection: null, // { name, dim, x: Float32Array, y: Float32Array, z: Float32Array | null }
  normX: null, // 2-D: the coordinates regl-scatterplot draws
  normY: null,
  values: null, // colour codes or values, per point
  column: null, // the metadata column the points are coloured by
  selected: [],
  focus: null, // { key, index, neighbors: [...] }
  docCache: new Map(),
};

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function csvField(text) {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// Same scale on both axes so that distances keep their meaning; a margin of 5 %.
function normalise(x, y) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  const half = Math.max(x1 - x0, y1 - y0, 1e-12) / 2 * 1.05;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const nx = new Float32Array(x.length), ny = new Float32Array(y.length);
  for (let i = 0; i < x.length; i++) {
    nx[i] = (x[i] - cx) / half;
    ny[i] = (y[i] - cy) / half;
  }
  return [nx, ny];
}

const canvas = $('canvas');
const scatterplot = createScatterplot({
  canvas,
  width: 'auto',
  height: 'auto',
  backgroundColor: '#ffffff',
  pointColor: GREY,
  pointColorActive: '#e4002b',
  pointColorHover: '#000000',
  pointSize: 4,
  pointSizeSelected: 3,
  pointOutlineWidth: 2,
  lassoColor: '#e4002b',
  lassoType: 'freeform',
  lassoClearEvent: 'deselect',
  opacity: 0.85,
});

function pointSizeFor(n) {
  if (n > 50000) return 2;
  if (n > 5000) return 3;
  if (n > 500) return 5;
  return 8;
}

function is3d() {
  return state.projection !== null && state.projection.dim === 3;
}

function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

// One sRGB colour per point (n * 3 floats in 0..1) for the 3-D view, as regl-scatterplot
// colours the 2-D one: grey, a category's palette colour, or the continuous ramp.
function pointColours() {
  const n = state.keys.length;
  const out = new Float32Array(n * 3);
  if (!state.values) {
    const g = rgb(GREY);
    for (let i = 0; i < n; i++) out.set(g, 3 * i);
    return out;
  }
  if (state.values.type === 'categorical') {
    const palette = categoryColours(state.column.categories).map(rgb);
    for (let i = 0; i < n; i++) out.set(palette[state.values.data[i]] || rgb(MUTED), 3 * i);
    return out;
  }
  const ramp = CONTINUOUS.map(rgb);
  const last = ramp.length - 1;
  for (let i = 0; i < n; i++) {
    const t = Math.min(Math.max(state.values.data[i], 0), 1) * last;
    const j = Math.min(Math.floor(t), last - 1);
    const f = t - j;
    for (let c = 0; c < 3; c++) out[3 * i + c] = ramp[j][c] * (1 - f) + ramp[j + 1][c] * f;
  }
  return out;
}

let view3dPromise = null;
// The 3-D view, created on first use (loads static/explorer3d.js, three.js).
function view3d() {
  if (!view3dPromise) {
    view3dPromise = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = 'static/explorer3d.js';
      script.onload = () => resolve(window.EmbedforgeView3D.createView3D($('plot3d'), {
        onClick: (i) => focusPoint(i),
        onHover: (i, x, y) => (i < 0 ? hideTooltip() : showTooltip(i, x, y)),
      }));
      script.onerror = () => reject(new Error('could not load static/explorer3d.js'));
      document.head.appendChild(script);
    });
    view3dPromise.then((view) => { window.explorer.view3d = view; });
  }
  return view3dPromise;
}

function showMode() {
  const three = is3d();
  canvas.hidden = three;
  $('plot3d').hidden = !three;
  $('selection').hidden = three; // lasso and box selection are 2-D only
}

async function redraw() {
  if (is3d()) {
    (await view3d()).setColours(pointColours());
    return;
  }
  const points = { x: state.normX, y: state.normY };
  if (state.values) points.valueA = state.values.data;
  await scatterplot.draw(points, state.values ? { zDataType: state.values.type } : {});
  if (state.selected.length) scatterplot.select(state.selected, { preventEvent: true });
}

async function loadProjection(name) {
  setStatus(`Loading projection ${name} (computed once when not saved yet)...`);
  const p = await api('api/projection', { name });
  state.projection = {
    name,
    dim: p.dim,
    x: Float32Array.from(p.x),
    y: Float32Array.from(p.y),
    z: p.z ? Float32Array.from(p.z) : null,
  };
  showMode();
  if (is3d()) {
    const view = await view3d();
    const { x, y, z } = state.projection;
    view.setPoints(x, y, z, pointColours(), Math.max(2, pointSizeFor(state.keys.length) - 2));
    if (state.focus) view.highlight(state.selected, state.focus.index);
  } else {
    [state.normX, state.normY] = normalise(state.projection.x, state.projection.y);
    await redraw();
  }
  document.body.dataset.projection = name;
  setStatus(`${state.keys.length.toLocaleString()} points, projection ${name}`
    + (is3d() ? ' (3-D: drag to rotate, scroll to zoom)' : ''));
}

function renderLegend(column) {
  const legend = $('legend');
  legend.innerHTML = '';
  if (!column) return;
  const title = document.createElement('div');
  title.className = 'legend-title';
  title.textContent = column.name;
  legend.appendChild(title);
  if (column.kind === 'categorical') {
    const colours = categoryColours(column.categories);
    column.categories.forEach((c, i) => {
      const row = document.createElement('div');
      row.className = 'legend-row';
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = colours[i];
      const label = document.createElement('span');
      label.textContent = c;
      row.append(sw, label);
      legend.appendChild(row);
    });
  } else {
    const bar = document.createElement('div');
    bar.className = 'legend-bar';
    bar.style.background = `linear-gradient(to right, ${CONTINUOUS.join(',')})`;
    const ends = document.createElement('div');
    ends.className = 'legend-ends';
    ends.innerHTML = `<span>${column.low.toPrecision(3)}</span><span>${column.high.toPrecision(3)}</span>`;
    legend.append(bar, ends);
  }
}

async function colourBy(name) {
  if (!name) {
    state.values = null;
    scatterplot.set({ colorBy: null, pointColor: GREY });
    renderLegend(null);
    await redraw();
    return;
  }
  const column = await api('api/column', { name });
  state.column = column;
  if (column.kind === 'categorical') {
    state.values = { type: 'categorical', data: Float32Array.from(column.codes) };
    scatterplot.set({
      colorBy: 'valueA',
      pointColor: categoryColours(column.categories),
    });
  } else {
    state.values = { type: 'continuous', data: Float32Array.from(column.values) };
    scatterplot.set({ colorBy: 'valueA', pointColor: CONTINUOUS });
  }
  renderLegend(column);
  await redraw();
}

function listItems(el, items, onClick) {
  el.innerHTML = '';
  for (const item of items) {
    const li = document.createElement('li');
    li.dataset.key = item.key;
    li.dataset.index = String(item.index);
    const key = document.createElement('span');
    key.className = 'key';
    key.textContent = item.key;
    li.appendChild(key);
    if (item.score !== undefined) {
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = item.score.toFixed(4);
      li.appendChild(score);
    }
    li.addEventListener('click', () => onClick(item));
    el.appendChild(li);
  }
}

async function focusPoint(index, { zoom = false } = {}) {
  const key = state.keys[index];
  const k = Number($('k').value) || 10;
  $('neighbors-title').textContent = `Nearest to "${key}" (cosine, original space)`;
  try {
    const result = await api('api/neighbors', { key, k });
    state.focus = result;
    listItems($('neighbors'), result.neighbors, (n) => focusPoint(n.index, { zoom: true }));
    state.selected = [index, ...result.neighbors.map((n) => n.index)];
    if (is3d()) {
      (await view3d()).highlight(state.selected, index);
    } else {
      scatterplot.select(state.selected, { preventEvent: true });
      if (zoom) scatterplot.zoomToPoints(state.selected, { padding: 0.3, transition: true });
    }
    $('neighbors-panel').dataset.key = key;
    showSelection([]);
  } catch (err) {
    setStatus(err.message, true);
  }
}

function showSelection(indices) {
  const panel = $('selection');
  panel.dataset.count = String(indices.length);
  $('selection-count').textContent = indices.length
    ? `${indices.length.toLocaleString()} selected`
    : 'Shift + drag to lasso (or pick box)';
  $('export-selection').disabled = indices.length === 0;
  state.lassoed = indices;
}

scatterplot.subscribe('select', ({ points }) => {
  if (points.length === 1) {
    focusPoint(points[0]);
  } else {
    state.selected = Array.from(points);
    showSelection(state.selected);
  }
});
scatterplot.subscribe('deselect', () => {
  state.selected = [];
  showSelection([]);
});

const tooltip = $('tooltip');
let lastMouse = { x: 0, y: 0 };
canvas.addEventListener('mousemove', (e) => {
  lastMouse = { x: e.clientX, y: e.clientY };
});
function hideTooltip() {
  tooltip.hidden = true;
}

async function showTooltip(index, x, y) {
  const key = state.keys[index];
  tooltip.textContent = key;
  tooltip.style.left = `${x + 12}px`;
  tooltip.style.top = `${y + 12}px`;
  tooltip.hidden = false;
  tooltip.dataset.index = String(index);
  if (state.info && state.info.documents) {
    let text = state.docCache.get(key);
    if (text === undefined) {
      try {
        text = (await api('api/document', { key })).text;
      } catch (err) {
        text = '';
      }
      state.docCache.set(key, text);
    }
    if (tooltip.dataset.index === String(index)) {
      tooltip.textContent = `${key}: ${text.length > 300 ? text.slice(0, 300) + '...' : text}`;
    }
  }
}
scatterplot.subscribe('pointOver', (index) => showTooltip(index, lastMouse.x, lastMouse.y));
scatterplot.subscribe('pointOut', hideTooltip);

async function runSearch() {
  const q = $('search').value;
  if (!q) return;
  try {
    const result = await api('api/search', { q, regex: $('regex').checked, limit: 100 });
    $('search-count').textContent = `${result.total.toLocaleString()} match${result.total === 1 ? '' : 'es'}`
      + (result.total > result.matches.length ? ` (first ${result.matches.length})` : '');
    listItems($('results'), result.matches, (m) => focusPoint(m.index, { zoom: true }));
    const found = result.matches.map((m) => m.index);
    if (is3d()) {
      state.selected = found;
      (await view3d()).highlight(found);
    } else if (found.length) {
      scatterplot.select(found, { preventEvent: true });
    }
  } catch (err) {
    $('search-count').textContent = err.message;
    $('results').innerHTML = '';
  }
}

async function runAnalogy() {
  const [a, b, c] = ['analogy-a', 'analogy-b', 'analogy-c'].map((id) => $(id).value.trim());
  if (!a || !b || !c) return;
  try {
    const result = await api('api/analogy', { a, b, c, k: Number($('k').value) || 10 });
    $('analogy-error').textContent = '';
    listItems($('analogy-results'), result.answers, (n) => focusPoint(n.index, { zoom: true }));
  } catch (err) {
    $('analogy-error').textContent = err.message;
    $('analogy-results').innerHTML = '';
  }
}

async function exportPng() {
  const name = `${state.info.name}-${state.projection.name}.png`;
  if (is3d()) {
    (await view3d()).exportImage((blob) => download(name, blob));
    return;
  }
  const image = scatterplot.export();
  const out = document.createElement('canvas');
  out.width = image.width;
  out.height = image.height;
  out.getContext('2d').putImageData(image, 0, 0);
  out.toBlob((blob) => download(name, blob), 'image/png');
}

function exportCsv() {
  const { x, y, z } = state.projection;
  const lines = [z ? 'key,x,y,z' : 'key,x,y'];
  for (let i = 0; i < state.keys.length; i++) {
    lines.push(`${csvField(state.keys[i])},${x[i]},${y[i]}` + (z ? `,${z[i]}` : ''));
  }
  download(`${state.info.name}-${state.projection.name}.csv`, new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }));
}

function exportSelection() {
  const keys = (state.lassoed || []).map((i) => state.keys[i]);
  download(`${state.info.name}-selection.txt`, new Blob([keys.join('\n') + '\n'], { type: 'text/plain' }));
}

async function main() {
  const info = await api('api/info');
  state.info = info;
  document.title = `${info.name}: embedforge explorer`;
  $('title').textContent = `${info.name} (${info.kind}, ${info.n.toLocaleString()} keys, dim ${info.dim})`;
  state.keys = (await api('api/keys')).keys;
  scatterplot.set({ pointSize: pointSizeFor(state.keys.length) });

  const projection = $('projection');
  for (const p of info.projections) {
    const option = document.createElement('option');
    option.value = p.name;
    option.textContent = p.saved ? p.name : `${p.name} (compute)`;
    projection.appendChild(option);
  }
  projection.addEventListener('change', () => loadProjection(projection.value).catch((e) => setStatus(e.message, true)));

  const colour = $('colour');
  for (const c of info.columns) {
    const option = document.createElement('option');
    option.value = c;
    option.textContent = c;
    colour.appendChild(option);
  }
  colour.addEventListener('change', () => colourBy(colour.value).catch((e) => setStatus(e.message, true)));

  $('analogy-panel').hidden = !info.analogy;
  $('search-button').addEventListener('click', runSearch);
  $('search').addEventListener('keydown', (e) => { if (e.key === 'Enter') runSearch(); });
  $('analogy-button').addEventListener('click', runAnalogy);
  $('lasso-type').addEventListener('change', (e) => scatterplot.set({ lassoType: e.target.value }));
  $('export-png').addEventListener('click', exportPng);
  $('export-csv').addEventListener('click', exportCsv);
  $('export-selection').addEventListener('click', exportSelection);
  showSelection([]);

  await loadProjection(projection.value);
}

window.explorer = { scatterplot, state, api, focusPoint, view3d: null };
window.explorer.ready = main().then(
  () => { document.body.dataset.ready = 'true'; },
  (err) => { setStatus(err.message, true); document.body.dataset.ready = 'error'; throw err; },
);
