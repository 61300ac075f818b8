/**
 * The DGFiP data scopes a FranceConnect user consents to, per field of a téléservice's contract
 * (the DataPass scope names: `dgfip_rfr`, `dgfip_nbpart`, `dgfip_aft` are in the 2020 Impôt
 * particulier specification, the others in the DataPass habilitation form). A call « via
 * FranceConnect » returns a field only if the person agreed to its scope; the sandbox refuses the
 * call (403, 4031) when the token lacks the scope of a contracted field. Fields with no scope in
 * the DataPass list (`datRec`, `datEtab`, `revImposable`, ...) need none.
 */
const SCOPE_OF_FIELD: Readonly<Record<string, string>> = {
  rfr: 'dgfip_rfr',
  nbPart: 'dgfip_nbpart',
  sitFam: 'dgfip_sitfam',
  'pac.nbPac': 'dgfip_pac_nbPac',
  pac: 'dgfip_pac',
  nmNaiDec1: 'dgfip_nmNaiDec1',
  nmUsaDec1: 'dgfip_nmUsaDec1',
  prnmDec1: 'dgfip_prnmDec1',
  dateNaisDec1: 'dgfip_dateNaisDec1',
  nmNaiDec2: 'dgfip_nmNaiDec2',
  nmUsaDec2: 'dgfip_nmUsaDec2',
  prnmDec2: 'dgfip_prnmDec2',
  dateNaisDec2: 'dgfip_dateNaisDec2',
  aft: 'dgfip_aft',
  aftDetail: 'dgfip_aft',
  sitParIso: 'dgfip_pariso',
  revenuBrutGlobal: 'dgfip_rbg',
  mntRevbareme: 'dgfip_mntRevbareme',
  indDeficit: 'dgfip_inddeficit',
};

/** Every DGFiP data scope the local FranceConnect-like provider knows. */
export const FRANCECONNECT_DGFIP_SCOPES: readonly string[] = [...new Set(Object.values(SCOPE_OF_FIELD))];

/** The scopes a token must carry for the fields of `contract`, sorted. */
export function franceConnectScopesFor(contract: readonly string[]): string[] {
  const scopes = contract.flatMap((field) => {
    const scope = SCOPE_OF_FIELD[field] ?? (field.startsWith('pac.') ? SCOPE_OF_FIELD.pac : undefined);
    return scope ? [scope] : [];
  });
  return [...new Set(scopes)].sort();
}
