import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import { loadPolitiqueFile } from './politique-loader.ts';

/**
 * docs/politique-tarifaire.md stays true: every complete example policy of the page (a YAML block
 * opening with `# fichier : NAME`) validates, and every `quotient simulate` command of the page
 * that states results gives exactly those results.
 */

const DOC = readFileSync(new URL('../../../docs/politique-tarifaire.md', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'quotient-doc-politique-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const blocs = (langue: string) => [...DOC.matchAll(new RegExp('```' + langue + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');

const exemples = new Map<string, string>();
for (const bloc of blocs('yaml')) {
  const nom = /^# fichier : (\S+)\n/.exec(bloc)?.[1];
  if (nom) exemples.set(nom, bloc);
}

interface Commande {
  readonly ligne: string;
  readonly args: string[];
  readonly attendu: string[];
}

const commandes: Commande[] = blocs('console').flatMap((bloc) =>
  bloc
    .split(/\n(?=\$ )/)
    .map((morceau) => morceau.trim().split('\n'))
    .filter(([ligne]) => ligne?.startsWith('$ quotient simulate '))
    .map(([ligne, ...attendu]) => ({
      ligne: ligne!,
      args: ligne!.slice('$ quotient simulate '.length).split(/\s+/),
      attendu: attendu.filter((l) => l.trim() !== ''),
    })),
);

/** « 1 333,33 € » → 1333.33 (the page writes amounts as a person reads them). */
const euros = (texte: string) =>
  Number(
    texte
      .replace(/[\s\u00a0\u202f]/g, '')
      .replace('€', '')
      .replace(',', '.'),
  );

test('the page has a complete example for each grid shape and each formula, and each one validates', async () => {
  assert.ok(exemples.size >= 4, `${exemples.size} exemples`);
  const formules = new Set<string>();
  const formes = new Set<string>();
  for (const [nom, texte] of exemples) {
    writeFileSync(join(dir, nom), texte);
    const p = await loadPolitiqueFile(join(dir, nom));
    formules.add(p.quotient.formule);
    for (const a of p.activites) formes.add(a.grille.type === 'tranches' ? `tranches-${a.grille.derniereTranche}` : a.grille.type);
  }
  assert.deepEqual([...formules].sort(), ['coefficients', 'ressources-personnes', 'revenu-personnes', 'rfr-parts']);
  assert.deepEqual([...formes].sort(), ['taux-effort', 'tranches-ouverte', 'tranches-plafonnee']);
});

test('every result the page states is the one quotient simulate computes', async () => {
  const verifiees = commandes.filter((c) => c.attendu.length > 0);
  assert.ok(verifiees.length >= 15, `${verifiees.length} commandes vérifiées`);
  for (const nom of exemples.keys()) {
    assert.ok(
      verifiees.some((c) => c.args.includes(nom)),
      `l’exemple ${nom} a au moins une commande chiffrée`,
    );
  }
  for (const nom of exemples.keys()) writeFileSync(join(dir, nom), exemples.get(nom) ?? '');
  for (const c of verifiees) {
    const policy = c.args[c.args.indexOf('--policy') + 1] ?? '';
    assert.ok(exemples.has(policy), `${c.ligne} : la politique ${policy} est un exemple complet de la page`);
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: dir };
    assert.equal(await main(['simulate', ...c.args, '--json'], io), 0, `${c.ligne}\n${err.join('\n')}`);
    const r = JSON.parse(out.join('\n')) as { quotientFamilial: number | null; activites: Array<{ libelle: string; prix: number }> };
    for (const ligne of c.attendu) {
      const [quoi, valeur] = ligne.split(' : ') as [string, string];
      if (quoi === 'Quotient familial') {
        assert.equal(r.quotientFamilial, valeur === 'aucun' ? null : euros(valeur), `${c.ligne} → ${ligne}`);
      } else {
        const a = r.activites.find((x) => x.libelle === quoi);
        assert.ok(a, `${c.ligne} : activité « ${quoi} » inconnue`);
        assert.equal(a.prix, euros(valeur), `${c.ligne} → ${ligne}`);
      }
    }
  }
});
