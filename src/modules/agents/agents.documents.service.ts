import type { Kysely } from 'kysely';
import { DOCUMENT_TYPES, type DB, type DocumentType } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import type { DocumentStore } from '../../shared/document-store.js';
import { AppError, forbidden, notFound, validationFailed, type FieldError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { isValidAadhaar, maskAadhaar, normalizeAadhaar } from '../../shared/validators.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { hasPermission } from '../rbac/rbac.permissions.js';
import type { Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import * as repo from './agents.documents.repository.js';
import { DOCUMENT_CONTENT_TYPES, type DocumentContentType, type DocumentRow, type ReviewBody, type UploadInput } from './agents.documents.schemas.js';
import type { AgentsService } from './agents.service.js';

/** Reading the bytes back: what the route streams. */
export interface DocumentContent {
  row: DocumentRow;
  bytes: Buffer;
}

const EXTENSIONS: Record<DocumentContentType, string> = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' };
export const extensionOf = (contentType: DocumentContentType) => EXTENSIONS[contentType];

/**
 * An agent's documents. The agent itself uploads and reads them; beyond it,
 * only roles that may read agents (agent.read) and whose scope covers the
 * agent; reviewers need agent.review. A senior agent's team scope does not
 * extend to its members' identity papers.
 */
export class AgentDocumentsService {
  constructor(private readonly deps: { db: Kysely<DB>; clock: Clock; store: DocumentStore; agents: AgentsService; callers: Callers }) {}

  private async accessible(principal: Principal, agentId: string, permission: string): Promise<Actor> {
    const actor = await this.deps.callers.actor(principal);
    if (actor.agentId !== agentId && !hasPermission(actor.role, 'agent.read')) throw notFound('Agent');
    await this.deps.agents.findVisible(this.deps.db, actor, agentId);
    if (actor.agentId !== agentId && !hasPermission(actor.role, permission)) throw forbidden(`This needs the ${permission} permission.`);
    return actor;
  }

  /**
   * Access is settled before the body is read, so nobody outside the agent's
   * scope gets to stream 10 MB at us; `read` parses the multipart body.
   */
  async upload(principal: Principal, agentId: string, read: () => Promise<UploadInput>, ctx: AuditContext): Promise<DocumentRow> {
    const actor = await this.accessible(principal, agentId, 'agent.documents');
    const input = await read();
    const { type, aadhaarMasked, file } = checkUpload(input);
    // Loaded on the first upload, not at start: file-type and its readers are a few dozen modules most instances rarely need.
    const { fileTypeFromBuffer } = await import('file-type');
    const detected = await fileTypeFromBuffer(file.bytes);
    if (!detected || !(DOCUMENT_CONTENT_TYPES as readonly string[]).includes(detected.mime)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'Only PDF, JPEG or PNG files are accepted; the content decides, not the file name.');
    }
    const sha256 = await this.deps.store.put(file.bytes);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await repo.insertDocument(trx, {
        id: newId(now.getTime()), agent_id: agentId, type, content_type: detected.mime as DocumentContentType, size_bytes: file.bytes.length, sha256,
        original_name: file.filename ? sanitizeFileName(file.filename) : null, aadhaar_masked: aadhaarMasked, uploaded_by: actor.userId, created_at: now,
      });
      await appendAuditEvent(trx, ctx, { action: 'agent.document_uploaded', entityType: 'agent_document', entityId: row.id,
        changes: { agent_id: agentId, type, content_type: row.content_type, size_bytes: row.size_bytes, sha256 } }, now);
      return row;
    });
  }

  async list(principal: Principal, agentId: string, query: { type?: DocumentType; limit?: number; cursor?: string }) {
    await this.accessible(principal, agentId, 'agent.read');
    const limit = query.limit ?? 20;
    const rows = await repo.listDocuments(this.deps.db, agentId, query.type, decodeCursor(query.cursor, ['timestamp', 'uuid']), limit);
    return toPage(rows, limit, (row) => [row.cursor_at, row.id]);
  }

  async content(principal: Principal, agentId: string, documentId: string): Promise<DocumentContent> {
    await this.accessible(principal, agentId, 'agent.read');
    const row = await repo.findDocument(this.deps.db, agentId, documentId);
    if (!row) throw notFound('Document');
    const bytes = await this.deps.store.get(row.sha256);
    if (!bytes) throw new AppError('INTERNAL', 500, 'The document\'s content is missing from storage.');
    return { row, bytes };
  }

  async review(principal: Principal, agentId: string, documentId: string, body: ReviewBody, ctx: AuditContext): Promise<DocumentRow> {
    const actor = await this.accessible(principal, agentId, 'agent.review');
    // Nobody reviews their own papers, whatever their role.
    if (actor.agentId === agentId) throw forbidden('You cannot review your own documents.');
    return this.deps.db.transaction().execute(async (trx) => {
      const before = await repo.findDocument(trx, agentId, documentId, true);
      if (!before) throw notFound('Document');
      if (before.status !== 'pending') throw new AppError('INVALID_TRANSITION', 409, `The document is already ${before.status}.`);
      const now = this.deps.clock.now();
      const row = await repo.reviewDocument(trx, documentId, { status: body.decision, review_notes: body.notes ?? null, reviewed_by: actor.userId, reviewed_at: now });
      await appendAuditEvent(trx, ctx, { action: 'agent.document_reviewed', entityType: 'agent_document', entityId: documentId,
        changes: { agent_id: agentId, type: row.type, status: [before.status, row.status], notes: body.notes ?? null } }, now);
      return row;
    });
  }
}

function checkUpload(input: UploadInput): { type: DocumentType; aadhaarMasked: string | null; file: { bytes: Buffer; filename: string | undefined } } {
  const errors: FieldError[] = [];
  const type = input.type as DocumentType | undefined;
  if (!type || !DOCUMENT_TYPES.includes(type)) errors.push({ path: '/type', message: `must be one of ${DOCUMENT_TYPES.join(', ')}` });
  if (!input.file || input.file.bytes.length === 0) errors.push({ path: '/file', message: 'is required and must not be empty' });
  let aadhaarMasked: string | null = null;
  if (input.aadhaarNumber !== undefined) {
    const digits = normalizeAadhaar(input.aadhaarNumber);
    if (type !== 'aadhaar') errors.push({ path: '/aadhaar_number', message: 'is only accepted with type aadhaar' });
    else if (!isValidAadhaar(digits)) errors.push({ path: '/aadhaar_number', message: 'is not a valid Aadhaar number' });
    else aadhaarMasked = maskAadhaar(digits);
  }
  if (errors.length) throw validationFailed(errors);
  return { type: type!, aadhaarMasked, file: input.file! };
}

/** Kept for the reviewer's eyes only: no path, no control characters, bounded. */
function sanitizeFileName(name: string): string | null {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\p{L}\p{N} ._()-]/gu, '_').slice(0, 200);
  return clean || null;
}
