/** The back-office roles (issue 7). An agent may hold several. */
export const ROLES_AGENT = ['guichet', 'instructeur', 'administrateur', 'auditeur'] as const;
export type RoleAgent = (typeof ROLES_AGENT)[number];

export const LIBELLES_ROLES: Readonly<Record<RoleAgent, string>> = {
  guichet: 'Accueil (guichet)',
  instructeur: 'Instruction',
  administrateur: 'Administration',
  auditeur: 'Contrôle et audit',
};

export const isRoleAgent = (value: unknown): value is RoleAgent => (ROLES_AGENT as readonly unknown[]).includes(value);

/** Roles as stored (a JSON array); anything unknown is dropped rather than trusted. */
export function parseRoles(stored: string): RoleAgent[] {
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? ROLES_AGENT.filter((r) => parsed.includes(r)) : [];
  } catch {
    return [];
  }
}
