#!/usr/bin/env node
// Regenerates src/infra/communes/communes.tsv, the communes offered as places of birth, from the
// `data/communes.json` of @etalab/decoupage-administratif (MIT, the INSEE's COG). The package is
// not a dependency (12 MB unpacked for a 0.9 MB table): unpack it anywhere and pass its folder.
//   npm pack @etalab/decoupage-administratif && tar xzf etalab-decoupage-administratif-*.tgz
//   node scripts/generer-communes.js package
// Kept: current communes, Paris/Lyon/Marseille arrondissements (births are recorded by
// arrondissement), and communes déléguées or associées, marked `a` (former communes that an older
// birth certificate may name). Communes merged away before the COG's history are not there.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const source = process.argv[2];
if (!source) {
  process.stderr.write('Usage : node scripts/generer-communes.js DOSSIER_DU_PAQUET\n');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
const communes = JSON.parse(readFileSync(join(source, 'data', 'communes.json'), 'utf8'));
const actuelles = new Set(['commune-actuelle', 'arrondissement-municipal']);
const rows = new Map();
for (const c of communes) {
  if (!actuelles.has(c.type) && c.type !== 'commune-deleguee' && c.type !== 'commune-associee') continue;
  const key = `${c.code}\t${c.nom}`;
  if (!rows.has(key)) rows.set(key, [c.code, c.nom, c.departement ?? '', actuelles.has(c.type) ? '' : 'a']);
}
const sorted = [...rows.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
const out = resolve(new URL('..', import.meta.url).pathname, 'src', 'infra', 'communes', 'communes.tsv');
writeFileSync(
  out,
  [
    '# code INSEE\tnom\tdépartement\tancienne (a : commune déléguée ou associée)',
    `# Généré par scripts/generer-communes.js depuis ${pkg.name} ${pkg.version} (MIT, données COG de l’INSEE).`,
    ...sorted.map((r) => r.join('\t')),
    '',
  ].join('\n'),
);
process.stdout.write(`${sorted.length} communes écrites dans ${out}\n`);
