import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPI_SANDBOX } from '../sandbox/population.ts';
import { decrireIdentite } from './demo-identites.ts';

const le2decembre2026 = Date.parse('2026-12-02T12:00:00Z');

test('the demo describes its sandbox identities as the sandbox answers them: no dependants where there are none', () => {
  assert.equal(
    decrireIdentite(SPI_SANDBOX.rfrZero, le2decembre2026),
    'Lea Roux, née en 2003, célibataire, sans personne à charge (1 part), revenu fiscal de référence nul ; avis des revenus 2024 et 2025',
  );
  assert.match(
    decrireIdentite(SPI_SANDBOX.primoDeclarant, le2decembre2026),
    /^Hugo Girard, né en 2004, célibataire, sans personne à charge \(1 part\), revenu fiscal de référence 14[\s\u202f\u00a0]300[\s\u202f\u00a0]€ ; un seul avis \(revenus 2025\)$/,
  );
  assert.equal(decrireIdentite(SPI_SANDBOX.inconnu, le2decembre2026), 'identité sans avis dans le bac à sable');
});
