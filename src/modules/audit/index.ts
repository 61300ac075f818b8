/** The journal d'audit: what other modules and the composition root use. */
export {
  JournalAudit,
  DEFAULT_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  type AnchorOutcome,
  type AuditAlert,
  type JournalAuditOptions,
  type PurgeReport,
} from './journal-audit.ts';
export { auditFilesFor, type AuditFiles } from './audit-anchor.ts';
export { cibleSyslog, copieSyslogAncre } from './audit-anchor-syslog.ts';
export { verifyJournal, BREAK_MESSAGES, type BreakReason, type VerificationReport } from './audit-chain.ts';
export { describeEntry, type AuditFilter, type AuditPage, type AuditPageResult, type ExportOptions, type Period } from './audit-query.ts';
export {
  EntreeAuditInvalide,
  type Acteur,
  type TypeActeur,
  type AuditDetailValue,
  type AuditEntry,
  type AuditEntryInput,
  type AuditOutcome,
  type AuditRef,
} from './audit-entry.ts';
export { type Reconnaissance } from './audit-reconnaissance.ts';
