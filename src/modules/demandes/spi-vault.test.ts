import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { MARGE_JETON_FRANCECONNECT_MS, SpiVault } from './spi-vault.ts';

test('a FranceConnect token is handed out only while it has the call’s margin left, then is told expired', () => {
  let now = 1_000_000;
  const vault = new SpiVault(60 * 60_000, () => now);
  vault.put('foyer', { franceConnectToken: 'jeton', valableJusque: now + 60_000 });
  now += 60_000 - MARGE_JETON_FRANCECONNECT_MS - 1;
  assert.ok(vault.has('foyer'));
  assert.equal(vault.aExpire('foyer'), false);
  now += 1;
  assert.equal(vault.get('foyer'), undefined, 'never a token older than its lifetime allows');
  assert.equal(vault.aExpire('foyer'), true);
  vault.forget('foyer');
  assert.equal(vault.aExpire('foyer'), false, 'forgotten, not expired');
});

test('whatever the token’s lifetime and the clock, the vault never hands out a token with less than the margin left', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 7_200_000 }), (vie, ecoule) => {
      let now = 5_000_000;
      const vault = new SpiVault(60 * 60_000, () => now);
      const valableJusque = now + vie;
      vault.put('f', { franceConnectToken: 'j', valableJusque });
      now += ecoule;
      const donne = vault.get('f') !== undefined;
      assert.equal(donne, now < valableJusque - MARGE_JETON_FRANCECONNECT_MS && ecoule < 60 * 60_000);
    }),
  );
});

test('a numéro fiscal keeps the vault’s own lifetime', () => {
  let now = 0;
  const vault = new SpiVault(1_000, () => now);
  vault.put('f', { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) });
  now = 999;
  assert.ok(vault.has('f'));
  now = 1_000;
  assert.ok(!vault.has('f'));
});
