import type { Services } from '../app/compose.ts';
import { EVENEMENTS } from '../modules/detection/detection-service.ts';

/**
 * A failed sign-in, family or agent, told to detection with its network address: the journal
 * holds the account, not the address, and unknown e-mail addresses have no account at all.
 */
export const echecConnexion =
  (services: Pick<Services, 'detection'>) =>
  (adresse: string): void =>
    void services.detection.signaler(EVENEMENTS.connexionEchec, `adresse:${adresse}`);
