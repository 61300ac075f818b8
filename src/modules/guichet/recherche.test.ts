import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { openKeyringFile } from '../../infra/silo/keyring.ts';
import { auditFilesFor, JournalAudit } from '../audit/index.ts';
import { FamillesService, RECHERCHE_GROSSIERE_MAX, RECHERCHE_MAX, motsDuNom } from '../familles/familles-service.ts';

/**
 * The counter's search of families runs the same on both dialects: case, accents and hyphens
 * ignored, a name and a date of birth matching the same parent, at most RECHERCHE_MAX families.
 */

const agent = { type: 'agent' as const, id: 'agent-recherche' };

test('motsDuNom: lower case, no accents, letters only', () => {
  assert.deepEqual(motsDuNom('  Ndiaye-Fall  ÉLODIE d’Aubigné '), ['ndiaye', 'fall', 'elodie', 'd', 'aubigne']);
  assert.deepEqual(motsDuNom('12 34'), []);
});

test('the search of families, on every dialect', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const dataDir = mkdtempSync(join(tmpdir(), 'quotient-recherche-'));
    try {
      const journal = await JournalAudit.open({
        db: database.db,
        dialect: database.dialect,
        files: auditFilesFor({ mode: 'demo', dataDir }),
        onAlert: () => undefined,
      });
      const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: openKeyringFile({ mode: 'demo', dataDir }) });
      const familles = new FamillesService({ db: database.db, journal, coffre });
      const chevalier = await familles.creer(
        {
          parents: [
            { nomNaissance: 'Chevalier', prenoms: 'Marc', dateNaissance: '1988-06-30' },
            { nomNaissance: 'Ndiaye Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' },
          ],
        },
        agent,
      );
      const lefevre = await familles.creer(
        { parents: [{ nomNaissance: 'Lefèvre', nomUsage: 'Çelik', prenoms: 'Hélène Éléonore', dateNaissance: '1990-02-14' }] },
        agent,
      );
      const ids = async (criteres: Parameters<FamillesService['rechercher']>[0]) =>
        (await familles.rechercher(criteres, agent)).familles.map((f) => f.id).sort();

      assert.deepEqual(await ids({ nom: 'NDIAYE-fall' }), [chevalier.id]);
      assert.deepEqual(await ids({ nom: 'aminata ndi' }), [chevalier.id], 'words are prefixes of the names');
      assert.deepEqual(await ids({ nom: 'lefevre' }), [lefevre.id], 'accents ignored');
      assert.deepEqual(await ids({ nom: 'CELIK eleonore' }), [lefevre.id], 'usage name and any first name');
      assert.deepEqual(await ids({ nom: 'evre' }), [], 'not inside a word');
      assert.deepEqual(await ids({ dateNaissance: '1990-02-14' }), [chevalier.id, lefevre.id].sort());
      assert.deepEqual(await ids({ nom: 'chevalier', dateNaissance: '1990-02-14' }), [], 'name and date of the same parent');
      assert.deepEqual(await ids({ nom: 'ndiaye', dateNaissance: '1990-02-14' }), [chevalier.id]);
      assert.deepEqual(await ids({ reference: chevalier.reference.toLowerCase() }), [chevalier.id]);
      await assert.rejects(familles.rechercher({}, agent), { code: 'recherche_vide' });

      const trouvee = (await familles.rechercher({ reference: chevalier.reference }, agent)).familles[0];
      assert.deepEqual(
        trouvee?.parents.map((p) => [p.rang, p.prenoms]),
        [
          [1, 'Marc'],
          [2, 'Aminata'],
        ],
      );

      for (let i = 0; i < RECHERCHE_MAX + 1; i++)
        await familles.creer({ parents: [{ nomNaissance: 'Martin', prenoms: `Prénom ${'x'.repeat(i % 5)}`, dateNaissance: '1970-01-01' }] }, agent);
      const beaucoup = await familles.rechercher({ nom: 'martin' }, agent);
      assert.equal(beaucoup.familles.length, RECHERCHE_MAX);
      assert.equal(beaucoup.tronque, true);

      // Each search is one journal entry: the kinds of criteria and the count, not what was searched.
      const entries = (await journal.query({ action: 'famille.recherchee' }, { limit: 500 })).entries;
      assert.equal(entries.length, 11);
      assert.deepEqual(entries.find((e) => e.details.criteres === 'nom+date_naissance' && e.details.resultats === 1)?.actor, agent);
      assert.doesNotMatch(JSON.stringify(entries), /ndiaye|lefevre|celik|martin|1990-02-14/i);

      // More matches than the SQL filter reads (namesakes, written straight into the tables with
      // their searchable words), all listed before the Lefèvre family: the family is missed, and
      // the agent must be told the list is incomplete.
      const maintenant = new Date().toISOString();
      const proches = Array.from({ length: RECHERCHE_GROSSIERE_MAX + 1 }, (_, i) => ({
        id: randomUUID(),
        reference: `F-0000-${String(i).padStart(4, '0')}`,
        rang: 1 + (i % 2),
      }));
      for (let i = 0; i < proches.length; i += 200) {
        const lot = proches.slice(i, i + 200);
        await database.db
          .insertInto('familles')
          .values(lot.map((f) => ({ id: f.id, reference: f.reference, resident: 1, courriel: null, creee_le: maintenant, modifiee_le: maintenant })))
          .execute();
        const parents = lot.map((f) => ({ ...f, parentId: randomUUID() }));
        await database.db
          .insertInto('parents')
          .values(
            parents.map((f) => ({
              id: f.parentId,
              famille_id: f.id,
              rang: f.rang,
              nom_naissance: 'Lefevre',
              nom_usage: null,
              prenoms: 'Jo',
              date_naissance: '1960-01-01',
              au_foyer: 1,
            })),
          )
          .execute();
        await database.db
          .insertInto('parents_mots')
          .values(parents.flatMap((f) => ['lefevre', 'jo'].map((mot) => ({ parent_id: f.parentId, mot }))))
          .execute();
      }
      const noye = await familles.rechercher({ nom: 'lefevre' }, agent);
      assert.ok(!noye.familles.some((f) => f.id === lefevre.id), 'the coarse filter stops before the Lefèvre family');
      assert.equal(noye.tronque, true);
      const precise = await familles.rechercher({ nom: 'lefevre', dateNaissance: '1990-02-14' }, agent);
      assert.deepEqual(
        precise.familles.map((f) => f.id),
        [lefevre.id],
      );
      assert.equal(precise.tronque, false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
