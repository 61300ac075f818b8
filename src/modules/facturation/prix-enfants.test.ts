import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { createSituationFiscale } from '../../domain/situation-fiscale.ts';
import { avisInput, politiqueInput } from '../../domain/test-support.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { openKeyringFile } from '../../infra/silo/keyring.ts';
import { auditFilesFor, JournalAudit } from '../audit/index.ts';
import { newId } from '../demandes/demandes-repo.ts';
import { Quotients } from '../demandes/quotients.ts';
import { FamillesService } from '../familles/familles-service.ts';
import { FacturationService, lignesCsv } from './facturation-service.ts';

const agent = { type: 'agent' as const, id: 'agent-1' };

/** The test policy with a 25 % canteen reduction from the second child on. */
const politique = (() => {
  const p = politiqueInput() as unknown as { activites: Array<Record<string, unknown>> };
  p.activites[0]!.reductionsRang = [{ rang: 2, pourcentage: 25 }];
  return parsePolitiqueTarifaire(p);
})();

test('child rank and alternating residence reach the stored prices, the billing API view and the CSV, on every dialect', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const dataDir = mkdtempSync(join(tmpdir(), 'quotient-prix-enfants-'));
    try {
      const journal = await JournalAudit.open({
        db: database.db,
        dialect: database.dialect,
        files: auditFilesFor({ mode: 'demo', dataDir }),
        onAlert: () => undefined,
      });
      const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: openKeyringFile({ mode: 'demo', dataDir }) });
      const familles = new FamillesService({ db: database.db, journal, coffre });
      const quotients = new Quotients({ db: database.db, coffre, politique: () => politique, clock: () => Date.parse('2024-10-01T08:00:00Z') });
      const { id: familleId, reference } = await familles.creer(
        {
          parents: [{ nomNaissance: 'Martin', prenoms: 'Jeanne', dateNaissance: '1985-03-02' }],
          enfants: [
            { prenoms: 'Zoé', nom: 'Martin', dateNaissance: '2019-04-02' },
            { prenoms: 'Inès', nom: 'Martin', dateNaissance: '2016-11-30', residence: 'alternee' },
          ],
        },
        agent,
      );
      const demande = { id: newId(), famille_id: familleId, creee_le: '2024-10-01T08:00:00.000Z' };
      await database.db
        .insertInto('demandes')
        .values({
          ...demande,
          reference: 'D-TEST-0001',
          canal: 'guichet',
          statut: 'calculee',
          annee_revenus: 2023,
          motif: null,
          motif_code: null,
          tentatives: 0,
          prochain_essai_le: null,
          acteur_type: 'agent',
          acteur_id: agent.id,
          modifiee_le: demande.creee_le,
          version: 1,
          detenteur: null,
        })
        .execute();

      // 48 000 € ÷ 12 ÷ 3 parts = 1 333,33 €: canteen 4,80 € for the family (its first child).
      const q = await quotients.calculer(demande, [createSituationFiscale(avisInput())]);
      await database.db.transaction().execute((trx) => quotients.enregistrer(trx, demande, q, 'calcul'));

      const [facture] = await new FacturationService({ db: database.db, journal }).enVigueur('2024-10-15');
      assert.ok(facture);
      assert.equal(facture.famille, reference);
      assert.deepEqual(
        facture.tranches.map((l) => `${l.activite}:${l.prixCents}`),
        ['restauration:480', 'accueil-soir:2046'],
      );
      // Inès, the eldest, alternates: her lines say so at the family's price; Zoé, second, has the canteen at −25 %.
      assert.deepEqual(
        facture.enfants.map((l) => `${l.prenoms}/${l.rang}/${l.activite}:${l.prixCents}${l.residenceAlternee ? '/alternée' : ''}`),
        ['Inès/1/restauration:480/alternée', 'Inès/1/accueil-soir:2046/alternée', 'Zoé/2/restauration:360'],
      );

      const [header, famille, ines, zoe, ...reste] = lignesCsv([facture]);
      assert.deepEqual(reste, []);
      assert.ok(header && famille && ines && zoe);
      const col = (name: string) => header.findIndex((h) => String(h).startsWith(name));
      const prixCantine = header.indexOf('Prix en centimes par repas – Restauration scolaire (restauration)');
      assert.deepEqual([famille[0], famille[prixCantine], famille[col('Enfant')]], [reference, 480, null]);
      assert.deepEqual([ines[col('Enfant')], ines[col('Rang')], ines[col('Résidence alternée')], ines[prixCantine]], ['Inès', 1, 'oui', 480]);
      assert.deepEqual([zoe[col('Enfant')], zoe[col('Rang')], zoe[col('Résidence alternée')], zoe[prixCantine]], ['Zoé', 2, 'non', 360]);
      // Zoé's evening care is the family's price: not repeated on her row.
      assert.equal(zoe[header.indexOf('Prix en centimes par mois – Accueil du soir (accueil-soir)')], null);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
