import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TAXATION_DATE, isTaxed, latestTaxedYear, parisDateTime } from './calendar.ts';
import { applyContract, DEFAULT_CONTRACT, renderAvisV2, renderSituation, validateContract } from './contract.ts';
import { avecCle, Population, SPI_SANDBOX } from './population.ts';

const population = new Population(DEFAULT_TAXATION_DATE);
const N = 2025;

describe('calendrier du bac à sable', () => {
  it('sert N-1 à partir du 22 juillet, heure de Paris', () => {
    // 21 July 23:30 UTC is already 22 July 01:30 in Paris (summer time).
    assert.equal(latestTaxedYear(Date.UTC(2025, 6, 21, 21, 59), DEFAULT_TAXATION_DATE), 2023);
    assert.equal(latestTaxedYear(Date.UTC(2025, 6, 21, 22, 0), DEFAULT_TAXATION_DATE), 2024);
    assert.equal(latestTaxedYear(Date.UTC(2025, 0, 1, 12), DEFAULT_TAXATION_DATE), 2023);
    assert.equal(latestTaxedYear(Date.UTC(2025, 11, 31, 12), DEFAULT_TAXATION_DATE), 2024);
    assert.equal(isTaxed(2024, Date.UTC(2025, 2, 1), DEFAULT_TAXATION_DATE), false);
    assert.equal(isTaxed(2024, Date.UTC(2025, 9, 1), { month: 9, day: 1 }), true);
    assert.equal(parisDateTime(Date.UTC(2024, 11, 31, 23, 30)).year, 2025);
  });
});

describe('population publiée', () => {
  it('reprend chaque ligne IR publiée, cellules nettoyées, 2019 servie en N-1 et 2018 en N-2', () => {
    for (const spi of SPI_SANDBOX.publies) {
      const years = population.situations(spi, N).map((s) => s.annrev);
      assert.deepEqual(years, [N - 1, N - 2], spi);
    }
    const [yves] = population.situations('3999999932264', N);
    assert.ok(yves);
    assert.equal(yves.rfr, 0);
    assert.equal(yves.nbPart, 2.5);
    assert.equal(yves.sitFam, 'M');
    assert.equal(yves.pac.nbPac, 1);
    assert.equal(yves.declarant1.nomNaissance, 'CIS QUARANTESEPT');
    assert.equal(yves.adresse.aft, '8 RUE JULIEN LACROIX 75020 PARIS');
    assert.equal(yves.origine, 'publie');
    const [charles] = population.situations('3999999942274', N);
    assert.equal(charles?.adresse.complementAdresse, 'APPARTEMENT A56');
    const [eric] = population.situations('3999999930262', N);
    assert.deepEqual(eric?.details.rev?.tspr, [
      { code: '1AJ', valeur: '35200' },
      { code: '1AK', valeur: '6522' },
    ]);
  });

  it('connaît toutes les identités publiées (154) et leur donne un foyer', () => {
    const publiees = [...population.personnes.values()].filter((p) => p.origine === 'publie');
    assert.equal(publiees.length, 154);
    for (const p of publiees) assert.ok(population.situations(p.spi, N).length > 0, p.spi);
  });

  it('donne des numéros fiscaux générés dont la clé modulo 511 est valide et qui ne se chevauchent pas', () => {
    const generated = [...population.personnes.values()].filter((p) => p.origine === 'genere');
    for (const p of generated) assert.equal(avecCle(p.spi.slice(0, 10)), p.spi);
    assert.equal(population.connu(SPI_SANDBOX.inconnu), false);
    assert.equal(avecCle('3141592653'), SPI_SANDBOX.canari);
  });
});

describe('foyers délicats', () => {
  it('couple marié ou pacsé : chacun des deux numéros donne le même foyer', () => {
    for (const couple of [SPI_SANDBOX.coupleMarie, SPI_SANDBOX.couplePacse]) {
      const a = population.situations(couple.declarant1, N);
      const b = population.situations(couple.declarant2, N);
      assert.deepEqual(a, b);
      assert.ok(a.length >= 2);
    }
  });

  it('parents non mariés : deux numéros, deux foyers distincts', () => {
    const a = population.situations(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, N)[0];
    const b = population.situations(SPI_SANDBOX.parentsNonMaries.parentSansEnfant, N)[0];
    assert.ok(a && b);
    assert.notEqual(a.referenceAvis, b.referenceAvis);
    assert.equal(a.pac.nbPac, 1);
    assert.equal(b.pac.nbPac, 0);
    assert.equal(a.declarant2, undefined);
  });

  it('décès du conjoint : deux avis en N-1, le survivant déclarant 1 du second', () => {
    const list = population.situations(SPI_SANDBOX.deces.survivant, N).filter((s) => s.annrev === N - 1);
    assert.equal(list.length, 2);
    assert.equal(list[0]?.sitFam, 'M');
    assert.equal(list[1]?.sitFam, 'V');
    assert.equal(list[1]?.declarant1.spi, SPI_SANDBOX.deces.survivant);
    assert.equal(list[0]?.periode?.dateDecesDec1, `${N - 1}-03-14`);
    const defunt = population.situations(SPI_SANDBOX.deces.defunt, N).filter((s) => s.annrev === N - 1);
    assert.equal(defunt.length, 1);
  });

  it('primo-déclarant : seule l’année N-1 existe', () => {
    assert.deepEqual(
      population.situations(SPI_SANDBOX.primoDeclarant, N).map((s) => s.annrev),
      [N - 1],
    );
  });
});

describe('recherche par état civil', () => {
  it('ignore casse, accents et tirets et accepte les premiers prénoms', () => {
    assert.deepEqual(
      population.rechercher({ nom: 'dubignot', prenom: 'jean' }).map((p) => p.spi),
      ['3999999776202'],
    );
    assert.deepEqual(
      population.rechercher({ nom: 'Dubinore', prenom: 'Joelle Francoise' }).map((p) => p.spi),
      ['3999999776203'],
    );
    assert.equal(population.rechercher({ nom: 'DUBIGNOT', prenom: 'Philippe' }).length, 0);
  });

  it('trouve plusieurs homonymes sans date de naissance, un seul avec', () => {
    assert.equal(population.rechercher({ nom: 'AC SIX', prenom: 'YVETTE' }).length, 2);
    assert.deepEqual(
      population.rechercher({ nom: 'AC SIX', prenom: 'YVETTE', naissance: { annee: '1971', mois: '03', jour: '25' } }).map((p) => p.spi),
      ['3999999899430'],
    );
    // Same name, same birth date: only the birth place tells them apart.
    assert.equal(population.rechercher({ nom: 'AC DIX', prenom: 'GUILLAUME', naissance: { annee: '1990', mois: '01', jour: '18' } }).length, 2);
    assert.deepEqual(
      population
        .rechercher({ nom: 'AC DIX', prenom: 'GUILLAUME', naissance: { annee: '1990' }, naisCodeDept: '063', naisCodeCommune: '113' })
        .map((p) => p.spi),
      ['3999999899406'],
    );
  });
});

describe('contrat du téléservice', () => {
  it('ne garde que les champs du contrat, sous-champs compris', () => {
    const s = population.situations(SPI_SANDBOX.coupleMarie.declarant1, N)[0];
    assert.ok(s);
    const full = renderSituation(s);
    assert.ok('revenuBrutGlobal' in full && 'rev' in full);
    const kept = applyContract(full, DEFAULT_CONTRACT);
    assert.deepEqual(Object.keys(kept).sort(), [
      'aft',
      'dateNaisDec1',
      'dateNaisDec2',
      'nbPart',
      'nmNaiDec1',
      'nmNaiDec2',
      'nmUsaDec2',
      'pac',
      'prnmDec1',
      'prnmDec2',
      'rfr',
      'sitFam',
    ]);
    assert.deepEqual(kept.pac, { nbPac: 2 });
    assert.deepEqual(applyContract(full, ['rfr']), { rfr: 52340 });
    assert.throws(() => validateContract(['rfr', 'revenuMystere']), /inconnu/);
    assert.throws(() => validateContract(['pac.nbPacZ']), /inconnu/);
    assert.ok('getcodePostal' in (renderSituation(s, 'getcodePostal').aftDetail as object));
  });

  it('traduit un avis en réponse API Particulier v2 comme le faisait siade', () => {
    const s = population.situations(SPI_SANDBOX.familleNombreuse.declarant1, N)[0];
    assert.ok(s);
    const v2 = renderAvisV2(s);
    assert.equal(v2.situationFamille, 'Pacsé(e)s');
    assert.equal(v2.montantImpot, null);
    assert.equal(v2.impotRevenuNetAvantCorrections, 99);
    assert.equal(v2.anneeRevenus, String(N - 1));
    assert.equal(v2.dateRecouvrement, `31/07/${N}`);
    assert.equal(v2.dateEtablissement, `07/07/${N}`);
    assert.ok(!('montantImpot' in renderAvisV2(s, true)));
  });
});
