import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAMPS_QUOTIENT, LIBELLES_CHAMPS_DGFIP, PORTEES_FRANCECONNECT_DGFIP, porteesFranceConnect } from './habilitation.ts';

test('every field an habilitation may name says which FranceConnect scope it needs, or that it needs none', () => {
  assert.deepEqual(Object.keys(PORTEES_FRANCECONNECT_DGFIP).sort(), Object.keys(LIBELLES_CHAMPS_DGFIP).sort());
});

test('the FranceConnect scopes of the QF fields: one per field, the DataPass names, without duplicates', () => {
  assert.deepEqual(porteesFranceConnect({ champs: [...CHAMPS_QUOTIENT] }), [
    'dgfip_aft',
    'dgfip_dateNaisDec1',
    'dgfip_dateNaisDec2',
    'dgfip_nbpart',
    'dgfip_nmNaiDec1',
    'dgfip_nmNaiDec2',
    'dgfip_nmUsaDec1',
    'dgfip_nmUsaDec2',
    'dgfip_pac_nbPac',
    'dgfip_prnmDec1',
    'dgfip_prnmDec2',
    'dgfip_rfr',
    'dgfip_sitfam',
  ]);
  assert.deepEqual(porteesFranceConnect({ champs: ['rfr', 'datEtab', 'rfr', 'sitParIso'] }), ['dgfip_pariso', 'dgfip_rfr']);
});
