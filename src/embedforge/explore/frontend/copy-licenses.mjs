// Copies the LICENSE file of every package bundled into ../static/explorer.js
// (regl-scatterplot inlines its own dependencies) and ../static/explorer3d.js (three)
// into ../static/licenses/.
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLED = [
  'regl-scatterplot', 'regl', 'pub-sub-es', '@flekschas/utils', 'dom-2d-camera',
  'camera-2d-simple', 'gl-matrix', 'earcut', 'regl-line', 'three',
];
const out = join('..', 'static', 'licenses');
mkdirSync(out, { recursive: true });
for (const name of BUNDLED) {
  const dir = join('node_modules', name);
  const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!file) throw new Error(`${name} ships no LICENSE file`);
  copyFileSync(join(dir, file), join(out, `${name.replace('@', '').replace('/', '__')}-${version}-${license}.txt`));
}
