import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ALPHABET_CODE,
  EXEMPLE_CODE,
  codeDepuisOctets,
  normaliserCode,
  remplacant,
  sourceAttestation,
  statutAttestation,
  type QuotientDate,
} from './attestation.ts';

const CODE = /^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/;

test('a code is three groups of four signs none of which can be misread (no 0, O, 1, I, L, U)', () => {
  assert.equal(ALPHABET_CODE.length, 30);
  for (const ambigu of '01OILU') assert.equal(ALPHABET_CODE.includes(ambigu), false, ambigu);
  assert.match(EXEMPLE_CODE, CODE);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (octets) => {
      const code = codeDepuisOctets(octets);
      // 64 bytes hold 12 usable ones unless nearly all are ≥ 240 (never in practice, but said).
      if (code === null) assert.ok(octets.filter((o) => o < 240).length < 12);
      else assert.match(code, CODE);
    }),
  );
});

test('the bytes at or above 240 are skipped, so that each of the 30 signs is equally likely', () => {
  // 240 and 255 are skipped; 0–11 give the first twelve signs; 30 + 1 would be the second again.
  const code = codeDepuisOctets(Uint8Array.from([240, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 41]));
  assert.equal(code, `${ALPHABET_CODE.slice(0, 4)}-${ALPHABET_CODE.slice(4, 8)}-${ALPHABET_CODE.slice(8, 11)}${ALPHABET_CODE[11]}`);
  assert.equal(codeDepuisOctets(Uint8Array.from([250, 251, 1, 2])), null, 'too few usable bytes');
});

test('a code typed in lower case, with spaces or other dashes, is read; anything else is not a code', () => {
  assert.equal(normaliserCode('7kq4 m2xh 9trc'), EXEMPLE_CODE);
  assert.equal(normaliserCode(' 7KQ4–M2XH—9TRC '), EXEMPLE_CODE);
  assert.equal(normaliserCode('7KQ4M2XH9TRC'), EXEMPLE_CODE);
  for (const pasUnCode of [
    '',
    '7KQ4-M2XH-9TR',
    '7KQ4-M2XH-9TRCA',
    '0KQ4-M2XH-9TRC',
    'IKQ4-M2XH-9TRC',
    '3012345678901',
    '<script>',
    'x'.repeat(10_000),
    null,
    42,
  ]) {
    assert.equal(normaliserCode(pasUnCode), null, String(pasUnCode).slice(0, 20));
  }
  fc.assert(
    fc.property(fc.string(), (s) => {
      const code = normaliserCode(s);
      assert.ok(code === null || CODE.test(code));
    }),
  );
});

const q = (calculeLe: string, valideDu: string, valideAu: string): QuotientDate => ({ calculeLe, valideDu, valideAu });

test('a QF recorded later over the same period replaces it; one for a later, separate period does not', () => {
  const atteste = q('2025-09-10T08:00:00.000Z', '2025-09-10', '2026-08-31');
  const contestation = q('2025-10-02T08:00:00.000Z', '2025-10-02', '2026-08-31');
  const plusTard = q('2025-11-02T08:00:00.000Z', '2025-11-02', '2026-08-31');
  const anneeSuivante = q('2026-07-30T08:00:00.000Z', '2026-09-01', '2027-08-31');
  const anterieur = q('2025-09-01T08:00:00.000Z', '2025-09-01', '2026-08-31');
  assert.equal(remplacant(atteste, [anterieur, anneeSuivante], '2026-01-15'), undefined);
  assert.equal(remplacant(atteste, [contestation, anterieur], '2026-01-15'), contestation);
  assert.equal(remplacant(atteste, [plusTard, contestation], '2026-01-15'), plusTard, 'the newest');
});

test('a QF recorded later that starts next month replaces nothing until it starts: the current one is still billed', () => {
  const atteste = q('2025-09-10T08:00:00.000Z', '2025-10-01', '2026-08-31');
  const moisSuivant = q('2026-01-12T08:00:00.000Z', '2026-02-01', '2026-08-31');
  assert.equal(remplacant(atteste, [moisSuivant], '2026-01-20'), undefined);
  assert.equal(remplacant(atteste, [moisSuivant], '2026-02-01'), moisSuivant);
  // Not started yet: judged on its first day.
  assert.equal(remplacant(moisSuivant, [q('2026-01-13T08:00:00.000Z', '2026-02-01', '2026-08-31')], '2026-01-20')?.calculeLe, '2026-01-13T08:00:00.000Z');
});

test('an attestation holds until its last day; its QF replaced or gone, it no longer does', () => {
  const atteste = q('2025-09-10T08:00:00.000Z', '2025-09-10', '2026-08-31');
  assert.equal(statutAttestation(atteste, false, '2026-08-31'), 'valable');
  assert.equal(statutAttestation(atteste, false, '2026-09-01'), 'expiree');
  assert.equal(statutAttestation(atteste, true, '2026-01-15'), 'remplacee');
  assert.equal(statutAttestation(atteste, true, '2026-09-01'), 'expiree', 'over is over, replaced or not');
  assert.equal(statutAttestation(null, false, '2026-01-15'), 'expiree', 'purged');
});

test('the source names the avis and its year, or the agent who set the QF, never an amount', () => {
  assert.equal(sourceAttestation('calcul', [2024]), 'DGFiP, avis d’imposition 2025 (revenus 2024)');
  assert.equal(sourceAttestation('calcul', [2024, 2024]), 'DGFiP, 2 avis d’imposition 2025 (revenus 2024)');
  assert.equal(sourceAttestation('calcul', [2023, 2024]), 'DGFiP, avis d’imposition 2025 (revenus 2024) et 2024 (revenus 2023)');
  assert.equal(sourceAttestation('instructeur', [2024]), 'DGFiP, avis d’imposition 2025 (revenus 2024), vérifié par un agent de la commune');
  assert.equal(sourceAttestation('manuel', []), 'fixé par un agent de la commune au vu d’un document');
  assert.equal(
    sourceAttestation('calcul', [], { sourceRetenue: 'caf', raisonSource: 'Le quotient de la CAF est le plus favorable des deux : il est retenu.' }),
    'CAF ou MSA, quotient familial transmis par l’API Particulier — Le quotient de la CAF est le plus favorable des deux : il est retenu.',
  );
  // A reason recorded with both values is not handed to third parties.
  assert.equal(
    sourceAttestation('calcul', [], { sourceRetenue: 'caf', raisonSource: 'Le quotient de la CAF est le plus favorable (812,00 € ; 1 453,89 €).' }),
    'CAF ou MSA, quotient familial transmis par l’API Particulier',
  );
});
