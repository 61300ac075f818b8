import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SourceFiscaleError } from '../fiscal-source.ts';
import { interpret } from './impot-particulier-source.ts';

const answer = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  correlationId: '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
});

function raison(status: number, body: unknown): string {
  try {
    interpret(answer(status, body), 2025);
  } catch (error) {
    assert.ok(error instanceof SourceFiscaleError, String(error));
    return error.raison;
  }
  assert.fail('a typed failure was expected');
}

test('a 400 with code 4001 is a malformed numéro; any other 400 is a request the DGFiP refused, never « réponse inutilisable »', () => {
  assert.equal(raison(400, { erreur: { code: 4001, message: 'format SPI incorrect' } }), 'numero_fiscal_invalide');
  assert.equal(raison(400, { erreur: { code: '4001' } }), 'numero_fiscal_invalide');
  assert.equal(raison(400, { erreur: { code: 4002, message: 'mauvais format d’année (annrev)' } }), 'requete_refusee');
  assert.equal(raison(400, { erreur: { message: 'En-tête X-FranceConnect-OAuth absent' } }), 'requete_refusee');
  assert.equal(raison(400, 'pas du JSON'), 'requete_refusee');
});

test('the refusal quotes the DGFiP’s code and words, but never text shaped like a numéro fiscal', () => {
  try {
    interpret(answer(400, { erreur: { code: 4002, message: 'mauvais format d’année (annrev)' } }), 2025);
  } catch (error) {
    assert.ok(error instanceof SourceFiscaleError);
    assert.match(error.message, /refuse la requête comme mal formée.*code 4002.*mauvais format d’année/);
  }
  try {
    interpret(answer(400, { erreur: { code: 4003, message: 'SPI 3141592653423 refusé' } }), 2025);
  } catch (error) {
    assert.ok(error instanceof SourceFiscaleError);
    assert.ok(!error.message.includes('3141592653423'));
  }
});

test('property: whatever the body of a 400, the reason is one of the two « bad request » reasons', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.json(), fc.record({ erreur: fc.record({ code: fc.oneof(fc.integer(), fc.string()), message: fc.string() }) })),
      (body) => {
        const r = raison(400, body);
        assert.ok(r === 'numero_fiscal_invalide' || r === 'requete_refusee', r);
      },
    ),
  );
});

test('410: 4102 is an unknown numéro, 4101 a year with no avis yet', () => {
  assert.equal(raison(410, { erreur: { code: 4102, message: 'Le spi envoyé ne correspond à aucun usager' } }), 'introuvable');
  assert.equal(raison(410, { erreur: { code: 4101, message: 'La requête avec le spi et l’année ne renvoie aucun résultat' } }), 'annee_indisponible');
  assert.equal(raison(410, { erreur: { code: 4101, message: 'aucun résultat unique : plusieurs situations existent' } }), 'situation_multiple');
});
