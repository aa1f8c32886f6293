// The explorer's 3-D view: a rotatable point cloud drawn by three.js (Points with one
// colour per point, OrbitControls to rotate / zoom / pan).  Built into its own file,
// ../static/explorer3d.js, which the page loads only when a 3-D projection is chosen.
// Picking is done in screen space: the point nearest the cursor within a few pixels.
import {
  BufferAttribute,
  BufferGeometry,
  CanvasTexture,
  Color,
  PerspectiveCamera,
  Points,
  PointsMaterial,
  Scene,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const PICK_RADIUS = 8; // pixels
const CLICK_SLOP = 4; // pixels the pointer may move between down and up for a click

// Points centred on the origin and scaled to fit the unit sphere (same scale on every axis).
function normalise(x, y, z) {
  const n = x.length;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const axes = [x, y, z];
  for (let a = 0; a < 3; a++) {
    for (let i = 0; i < n; i++) {
      const v = axes[a][i];
      if (v < lo[a]) lo[a] = v;
      if (v > hi[a]) hi[a] = v;
    }
  }
  const half = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], 1e-12) / 2;
  const positions = new Float32Array(n * 3);
  for (let a = 0; a < 3; a++) {
    const c = (lo[a] + hi[a]) / 2;
    for (let i = 0; i < n; i++) positions[3 * i + a] = (axes[a][i] - c) / half;
  }
  return positions;
}

// The page gives sRGB colours; three.js blends vertex colours in linear RGB.
function linear(colours) {
  const out = new Float32Array(colours.length);
  for (let i = 0; i < colours.length; i++) {
    const c = colours[i];
    out[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }
  return out;
}

// A white disc: the points' sprite, so that they are drawn round (alphaTest cuts the corners).
function disc() {
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  g.fillStyle = '#ffffff';
  g.beginPath();
  g.arc(32, 32, 30, 0, 2 * Math.PI);
  g.fill();
  return new CanvasTexture(c);
}

export function createView3D(container, { onClick = () => {}, onHover = () => {} } = {}) {
  const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  renderer.setClearColor(0xffffff, 1);
  const canvas = renderer.domElement;
  canvas.id = 'canvas3d';
  container.appendChild(canvas);

  const sprite = disc();
  const scene = new Scene();
  const camera = new PerspectiveCamera(45, 1, 0.01, 100);
  camera.position.set(0, 0, 3.2);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = false;
  controls.addEventListener('change', render);

  let positions = new Float32Array(0);
  let cloud = null; // every point
  let marked = null; // highlighted points (search matches, a point and its neighbours), drawn on top
  let baseSize = 4;
  let projected = null; // screen positions of every point, for picking; reset when the view changes
  controls.addEventListener('change', () => { projected = null; });

  function size() {
    const w = container.clientWidth || 1;
    const h = container.clientHeight || 1;
    renderer.setSize(w, h, false);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    projected = null;
    render();
  }

  function render() {
    renderer.render(scene, camera);
  }

  function dispose(obj) {
    if (!obj) return;
    scene.remove(obj);
    obj.geometry.dispose();
    obj.material.dispose();
  }

  function setPoints(x, y, z, colours, pointSize) {
    dispose(cloud);
    dispose(marked);
    marked = null;
    positions = normalise(x, y, z);
    baseSize = pointSize;
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(positions, 3));
    geometry.setAttribute('color', new BufferAttribute(linear(colours), 3));
    geometry.computeBoundingSphere();
    cloud = new Points(geometry, new PointsMaterial({
      size: pointSize, sizeAttenuation: false, vertexColors: true, map: sprite, alphaTest: 0.5,
    }));
    scene.add(cloud);
    projected = null;
    render();
  }

  function setColours(colours) {
    if (!cloud) return;
    cloud.geometry.setAttribute('color', new BufferAttribute(linear(colours), 3));
    render();
  }

  // Highlight `indices` in red (`focus`, the clicked point, in black), drawn larger and on top;
// an empty list clears.
  function highlight(indices, focus = null) {
    dispose(marked);
    marked = null;
    if (indices.length) {
      const pos = new Float32Array(indices.length * 3);
      const col = new Float32Array(indices.length * 3);
      const red = new Color('#e4002b');
      const black = new Color('#000000');
      indices.forEach((idx, j) => {
        pos.set(positions.subarray(3 * idx, 3 * idx + 3), 3 * j);
        (idx === focus ? black : red).toArray(col, 3 * j);
      });
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', new BufferAttribute(pos, 3));
      geometry.setAttribute('color', new BufferAttribute(col, 3));
      marked = new Points(geometry, new PointsMaterial({
        size: baseSize + 4, sizeAttenuation: false, vertexColors: true, depthTest: false,
        map: sprite, alphaTest: 0.5,
      }));
      marked.renderOrder = 1;
      scene.add(marked);
    }
    render();
  }

  // Screen position (CSS pixels, relative to the canvas) of point i.
  function screenPosition(i) {
    const rect = canvas.getBoundingClientRect();
    const v = new Vector3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]).project(camera);
    return [(v.x + 1) / 2 * rect.width, (1 - v.y) / 2 * rect.height, v.z];
  }

  function pick(clientX, clientY) {
    const n = positions.length / 3;
    if (!n) return -1;
    const rect = canvas.getBoundingClientRect();
    if (!projected) {
      projected = new Float32Array(n * 3);
      const v = new Vector3();
      for (let i = 0; i < n; i++) {
        v.set(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]).project(camera);
        projected[3 * i] = (v.x + 1) / 2 * rect.width;
        projected[3 * i + 1] = (1 - v.y) / 2 * rect.height;
        projected[3 * i + 2] = v.z;
      }
    }
    const px = clientX - rect.left;
    const py = clientY - rect.top;
    let best = -1;
    let bestD = PICK_RADIUS * PICK_RADIUS;
    let bestZ = Infinity;
    for (let i = 0; i < n; i++) {
      const dx = projected[3 * i] - px;
      const dy = projected[3 * i + 1] - py;
      const d = dx * dx + dy * dy;
      // nearest on screen; among (almost) equally near ones, the one in front
      if (d < bestD - 0.25 || (d <= bestD + 0.25 && projected[3 * i + 2] < bestZ)) {
        best = i;
        bestD = d;
        bestZ = projected[3 * i + 2];
      }
    }
    return best;
  }

  let down = null;
  canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY }; });
  canvas.addEventListener('pointerup', (e) => {
    if (down && Math.hypot(e.clientX - down.x, e.clientY - down.y) <= CLICK_SLOP) {
      const i = pick(e.clientX, e.clientY);
      if (i >= 0) onClick(i);
    }
    down = null;
  });
  let hovered = -1;
  canvas.addEventListener('pointermove', (e) => {
    if (e.buttons) return;
    const i = pick(e.clientX, e.clientY);
    if (i !== hovered) {
      hovered = i;
      onHover(i, e.clientX, e.clientY);
    }
  });
  canvas.addEventListener('pointerleave', () => {
    if (hovered !== -1) onHover(-1, 0, 0);
    hovered = -1;
  });

  new ResizeObserver(size).observe(container);
  size();

  function exportImage(callback) {
    render();
    canvas.toBlob(callback, 'image/png');
  }

  return { canvas, camera, controls, setPoints, setColours, highlight, screenPosition, pick, render, exportImage };
}
