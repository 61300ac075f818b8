import type { FastifyRequest } from 'fastify';
import type { AccordRecu } from './guichet-service.ts';

/** The consents of the request being entered at the counter (step 1), until step 2 sends it. */
export interface SaisieGuichet {
  readonly familleId: string;
  readonly accords: AccordRecu[];
}

declare module 'fastify' {
  interface Session {
    guichetSaisie?: SaisieGuichet;
    /** The request just sent from step 2 (its id once created): a second submit of the same form is sent to it. */
    guichetSoumise?: { readonly familleId: string; readonly demandeId?: string };
  }
}

/**
 * Step 2 of the counter sent once, whichever form sends it (the numéro fiscal or the état civil):
 * a double click, a reload of the POST or the back button create no second request and make no
 * second DGFiP call, and land on the request created. The consents leave the session (saved at
 * once) before the request is created; a request created is remembered in the session; a form
 * being sent by this process is known by its session and family.
 */
export class EnvoiUnique {
  /** The sends under way in this process, by session and family: their end. */
  private readonly enCours = new Map<string, Promise<void>>();

  private cle(request: FastifyRequest, familleId: string): string {
    return `${request.session.sessionId}:${familleId}`;
  }

  /**
   * When the same form is being sent by this process (a double click), waits for that send to end
   * and reads the session again as it left it. Otherwise the second request would answer from the
   * session it read before, and writing that stale copy back would lose the request created.
   */
  async apresEnvoiEnCours(request: FastifyRequest, familleId: string): Promise<void> {
    const envoi = this.enCours.get(this.cle(request, familleId));
    if (envoi === undefined) return;
    await envoi;
    await request.session.reload();
  }

  /**
   * Where a step-2 form goes when it has nothing to send: being sent already, or sent (to the
   * request created, or the family's page until it is), or never started (back to step 1).
   * Undefined when this form is the one to read.
   */
  dejaEnvoye(request: FastifyRequest, familleId: string, saisie: SaisieGuichet | undefined): string | undefined {
    const enCours = this.enCours.has(this.cle(request, familleId));
    if (saisie && !enCours) return undefined;
    const soumise = request.session.guichetSoumise;
    if (soumise?.familleId !== familleId && !enCours) return `/agents/guichet/familles/${familleId}/demande`;
    // While the same form is being sent by another request, this one only reads: its copy of the
    // session is older than the sender's, and writing it back would forget the request created.
    if (!enCours) delete request.session.guichetSaisie;
    return soumise?.familleId === familleId && soumise.demandeId ? `/agents/guichet/demandes/${soumise.demandeId}` : `/agents/guichet/familles/${familleId}`;
  }

  /**
   * Sends the request once: `soumettre` gets the callback the request service calls as soon as the
   * request exists. When it throws before that, the consents entered come back to the session, for
   * the form to be sent again; after, the request stands and the error is the caller's to show.
   * When the same form is being sent meanwhile (checked and marked at once), nothing is sent:
   * `ailleurs` says where to go.
   */
  async envoyer<T>(
    request: FastifyRequest,
    saisie: SaisieGuichet,
    soumettre: (creee: (demandeId: string) => Promise<void>) => Promise<T>,
  ): Promise<{ readonly envoye: T } | { readonly ailleurs: string }> {
    const { familleId } = saisie;
    const cle = this.cle(request, familleId);
    if (this.enCours.has(cle)) return { ailleurs: this.dejaEnvoye(request, familleId, saisie) ?? `/agents/guichet/familles/${familleId}` };
    let fini: () => void = () => undefined;
    this.enCours.set(cle, new Promise<void>((resolve) => (fini = resolve)));
    delete request.session.guichetSaisie;
    request.session.guichetSoumise = { familleId };
    let creee = false;
    try {
      await request.session.save();
      return {
        envoye: await soumettre(async (demandeId) => {
          creee = true;
          request.session.guichetSoumise = { familleId, demandeId };
          await request.session.save();
        }),
      };
    } catch (error) {
      if (!creee) {
        // Nothing was created: the consents entered stay, for the form to be sent again.
        request.session.guichetSaisie = saisie;
        delete request.session.guichetSoumise;
      }
      throw error;
    } finally {
      this.enCours.delete(cle);
      fini();
    }
  }
}
