import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { derniereAnneeImposee } from '../../domain/annee-imposition.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { openDatabase, type Database } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { asJson } from '../../infra/silo/coffre.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { COFFRE, newId } from '../demandes/demandes-repo.ts';
import { BERTIN_ROUSSEL, createHarness, enLigne, type Harness } from '../demandes/test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-migration-'));
const latest = derniereAnneeImposee(parisDate(Date.now()));
let sandbox: SandboxHandle;
let database: Database;
let h: Harness;

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  database = openDatabase(`sqlite:${join(dir, 'q.db')}`);
  await migrateToLatest(database.db, database.dialect);
  h = await createHarness(database, sandbox, { dataDir: join(dir, 'data') });
});
after(async () => {
  await h.close();
  await sandbox.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * What the transition leaves in Quotient: an avis received through the legacy API Particulier for
 * a parent, kept in the silo like any received avis (its request is a past one of the family).
 */
async function recuParApiParticulier(familleId: string, spi: string, reference: string): Promise<void> {
  const legacy = h.services.dgfip.apiParticulier;
  assert.ok(legacy, 'the sandbox’s API Particulier is configured');
  const situation = await legacy.parAvis(NumeroFiscal.parse(spi), reference);
  const demandeId = newId();
  const foyerId = newId();
  const hier = new Date(Date.now() - 86_400_000).toISOString();
  await database.db
    .insertInto('demandes')
    .values({
      id: demandeId,
      reference: `MIG-${demandeId.slice(0, 8)}`,
      famille_id: familleId,
      canal: 'guichet',
      statut: 'calculee',
      annee_revenus: null,
      motif: null,
      motif_code: null,
      tentatives: 1,
      prochain_essai_le: null,
      acteur_type: 'agent',
      acteur_id: 'agent-test',
      creee_le: hier,
      modifiee_le: hier,
      version: 1,
      detenteur: null,
    })
    .execute();
  await database.db
    .insertInto('demande_foyers')
    .values({
      id: foyerId,
      demande_id: demandeId,
      parent_rang: 1,
      voie: 'numero_fiscal',
      etat: 'recu',
      annee_revenus: situation.anneeRevenus,
      source: 'api-particulier',
      recu_le: hier,
    })
    .execute();
  await h.coffre.put(COFFRE.situation, foyerId, asJson(situation));
}

test('the report puts both sources side by side per family, names each difference, and holds no numéro fiscal', async () => {
  const famille = { type: 'famille' as const, id: 'compte-migration' };
  const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, spi]], famille));
  assert.equal(await h.traitement.traiter(id), 'calculee');
  await recuParApiParticulier(familleId, spi, `${String((latest + 1) % 100).padStart(2, '0')}${spi.slice(2)}`);
  // A family with one source only is not in the report.
  const { id: seule } = await h.familles.creer({ parents: [{ nomNaissance: 'Dupont', prenoms: 'Marc', dateNaissance: '1970-01-01' }] }, famille);

  const rapport = await h.services.migration.rapport({ type: 'systeme', id: 'cli:test' });
  assert.equal(rapport.familles, 1);
  const lignes = rapport.csv
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n');
  assert.equal(
    lignes[0],
    'famille;parent;source_ancienne;annee_ancienne;recu_ancienne;source_nouvelle;annee_nouvelle;recu_nouvelle;nombre_ecarts;ecarts;avertissements_ancienne',
  );
  assert.equal(lignes.length, 2);
  const [fam, parent, ancienne, anneeAncienne, , nouvelle, anneeNouvelle] = (lignes[1] as string).split(';');
  assert.deepEqual(
    [fam, parent, ancienne, anneeAncienne, nouvelle, anneeNouvelle],
    [familleId, '1', 'api-particulier', String(latest), 'impot-particulier', String(latest)],
  );
  assert.ok(!rapport.csv.includes(seule));
  assert.ok(!rapport.csv.includes(spi) && !rapport.csv.includes(SPI_SANDBOX.coupleMarie.declarant2), 'no numéro fiscal');
  const entries = await database.db.selectFrom('journal_audit').select(['action']).where('action', '=', 'migration.rapport').execute();
  assert.equal(entries.length, 1, 'the export is journaled');
});
