import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { lireMontantQf, parseDecisionInstructeur, QF_MAX_CENTS } from './decision-instructeur.ts';
import { ressembleANumeroFiscal } from './numero-fiscal.ts';
import { QuotientError } from './errors.ts';

const cents = (raw: string) => {
  const r = lireMontantQf(raw);
  assert.ok(r.ok, `${raw}: ${r.ok ? '' : r.message}`);
  return r.cents;
};
const refus = (raw: string) => {
  const r = lireMontantQf(raw);
  assert.ok(!r.ok, `${raw} accepted`);
  return r.message;
};

test('a QF is read as French people type it', () => {
  assert.equal(cents('612'), 61200);
  assert.equal(cents('612,5'), 61250);
  assert.equal(cents('612,50'), 61250);
  assert.equal(cents('612.05'), 61205);
  assert.equal(cents(' 1 234,56 € '), 123456);
  assert.equal(cents('1\u202f234,56\u00a0€'), 123456);
  assert.equal(cents('0'), 0);
  assert.equal(cents('007,10 euros'), 710);
});

test('a QF that is not a positive amount with at most two decimals gets a French message', () => {
  assert.match(refus(''), /Indiquez le quotient familial en euros/);
  assert.match(refus('   '), /Indiquez le quotient familial en euros/);
  assert.match(refus('-12'), /ne peut pas être négatif/);
  assert.match(refus('612,505'), /Deux chiffres au plus après la virgule/);
  assert.match(refus('1.234'), /Deux chiffres au plus après la virgule/);
  assert.match(refus('douze'), /en chiffres/);
  assert.match(refus('12,'), /en chiffres/);
  assert.match(refus('1e3'), /en chiffres/);
  assert.match(refus('10000001'), /trop élevé/);
  assert.match(refus('99999999999999999999999'), /trop élevé/);
});

/** An amount written the way a person might: grouped thousands or not, comma or point, with or without €. */
const ecrit = (c: number, groupe: boolean, point: boolean, euro: boolean, zeros: boolean) => {
  const entier = String(Math.trunc(c / 100));
  const dec = String(c % 100).padStart(2, '0');
  const groupes = groupe ? entier.replace(/\B(?=(\d{3})+(?!\d))/g, ' ') : entier;
  const decimales = zeros || dec !== '00' ? `${point ? '.' : ','}${dec}` : '';
  return `${groupes}${decimales}${euro ? ' €' : ''}`;
};

test('property: any amount in cents, however written, reads back to the same cents', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: QF_MAX_CENTS }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (c, groupe, point, euro, zeros) => {
      assert.equal(cents(ecrit(c, groupe, point, euro, zeros)), c);
    }),
    { numRuns: 2000 },
  );
});

test('property: the parser never throws, and what it accepts is whole cents within bounds', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?[0-9 .,]{0,14}(€)?$/)), (raw) => {
      const r = lireMontantQf(raw);
      if (r.ok) assert.ok(Number.isSafeInteger(r.cents) && r.cents >= 0 && r.cents <= QF_MAX_CENTS);
      else assert.ok(r.message.length > 0);
    }),
    { numRuns: 3000 },
  );
});

test('property: three decimals or more, and negative amounts, are always refused', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99999 }), fc.stringMatching(/^[0-9]{3,6}$/), (e, d) => {
      assert.equal(lireMontantQf(`${e},${d}`).ok, false);
      assert.equal(lireMontantQf(`-${e}`).ok, false);
    }),
  );
});

const details = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof QuotientError && error.kind === 'invalid' && error.code === 'decision_invalide', String(error));
    return Object.fromEntries(error.details.map((d) => [d.path, d.message]));
  }
  assert.fail('accepted');
};

test('a decision needs its justification; a QF by hand needs the amount and the document seen', () => {
  assert.deepEqual(parseDecisionInstructeur({ decision: 'confirme', justification: '  Nom d’usage vérifié.  ' }), {
    decision: 'confirme',
    justification: 'Nom d’usage vérifié.',
    piece: null,
  });
  assert.deepEqual(
    parseDecisionInstructeur({ decision: 'qf_manuel', justification: 'Avis présenté', piece: 'avis 2025 présenté au guichet le 12/09/2025', qfCents: 61250 }),
    {
      decision: 'qf_manuel',
      justification: 'Avis présenté',
      piece: 'avis 2025 présenté au guichet le 12/09/2025',
      qfCents: 61250,
    },
  );
  assert.deepEqual(
    details(() => parseDecisionInstructeur({ decision: 'peut-etre' })),
    { decision: 'Choisissez une décision.' },
  );
  assert.match(
    details(() => parseDecisionInstructeur({ decision: 'refuse', justification: ' ' })).justification ?? '',
    /motif du refus : il sera communiqué à la famille/,
  );
  const manuel = details(() => parseDecisionInstructeur({ decision: 'qf_manuel', justification: '', piece: '', qfCents: -1 }));
  assert.deepEqual(Object.keys(manuel).sort(), ['justification', 'piece', 'qf']);
  assert.match(manuel.piece ?? '', /pièce examinée/);
  assert.match(details(() => parseDecisionInstructeur({ decision: 'qf_manuel', justification: 'x', piece: 'y', qfCents: 1.5 })).qf ?? '', /positif ou nul/);
  assert.match(details(() => parseDecisionInstructeur({ decision: 'confirme', justification: 'x'.repeat(2001) })).justification ?? '', /2\u00a0000 caractères/);
});

test('a numéro fiscal pasted into a justification or a document reference is refused, and not repeated in the message', () => {
  const spi = '3999990141 123';
  assert.ok(ressembleANumeroFiscal(`numéro ${spi}`));
  assert.ok(!ressembleANumeroFiscal('avis 2025 présenté le 12/09/2025, référence D-ABCD-EFGH'));
  const e = details(() =>
    parseDecisionInstructeur({ decision: 'qf_manuel', justification: `Vu avec le numéro ${spi}`, piece: `avis de ${spi}`, qfCents: 100 }),
  );
  assert.match(e.justification ?? '', /semble contenir un numéro fiscal/);
  assert.match(e.piece ?? '', /semble contenir un numéro fiscal/);
  assert.ok(!JSON.stringify(e).includes('3999990141'));
});
